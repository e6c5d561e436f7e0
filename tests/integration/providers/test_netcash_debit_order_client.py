"""The debit-order client against the fake NetCash: upload, load report, status, authorise, statement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from isp_billing.errors import ProviderError
from isp_billing.providers.netcash import NetcashClient
from isp_billing.providers.netcash_debit_orders import Collection, DebitOrderClient
from isp_billing_cli.fakes import netcash as fake_netcash

SVK = "24ade73c-98cf-47b3-99be-cc7b867b3080"


@pytest.fixture
def fake() -> Iterator[fake_netcash.FakeNetcash]:
    server = fake_netcash.start(not_ready_polls=1)
    yield server
    server.stop()


@pytest.fixture
def client(fake: fake_netcash.FakeNetcash) -> Iterator[DebitOrderClient]:
    transport = NetcashClient(
        base_url=f"{fake.url}/NIWS",
        debit_order_service_key=fake_netcash.DEFAULT_DEBIT_ORDER_KEY,
        account_service_key=fake_netcash.DEFAULT_ACCOUNT_KEY,
        timeout_seconds=2,
    )
    yield DebitOrderClient(transport, SVK)
    transport.close()


ITEMS = [
    Collection("c-1", "CUS-2026-00001", Decimal("699.00")),
    Collection("c-2", "CUS-2026-00002", Decimal("99.00")),
]


def test_upload_report_status_authorise(fake: fake_netcash.FakeNetcash, client: DebitOrderClient) -> None:
    # Given a batch file of two collections, one of whose account references NetCash rejects
    fake.debit_orders.reject_references["CUS-2026-00002"] = "Account reference not on the masterfile"
    text = client.build_file("TwoDay", "ISPB-T1", date(2026, 3, 25), ITEMS)
    # When it is uploaded and its report read (not ready on the first poll)
    token = client.upload_batch(text)
    assert client.load_report(token) is None
    report = client.load_report(token)
    # Then the report names the rejected line only, and the batch can be found and authorised
    assert report is not None and report.accepted and report.result == "SUCCESSFUL WITH ERRORS"
    assert report.rejected_references() == {"CUS-2026-00002": "Account reference not on the masterfile"}
    status = client.batch_status("ISPB-T1")
    assert status is not None and status.volume == 1
    client.authorise_batch(status.batch_id)
    assert fake.debit_orders.batches["ISPB-T1"].authorised
    assert client.batch_status("ISPB-NEVER") is None


def test_a_lost_upload_answer_is_an_error_but_the_batch_is_there(
    fake: fake_netcash.FakeNetcash, client: DebitOrderClient
) -> None:
    # Given NetCash takes the file but its answer is garbage
    fake.debit_orders.lose_next_upload_answer = True
    # When uploaded / Then the client cannot read a token, yet the batch status finds the batch by name
    with pytest.raises(ProviderError):
        client.upload_batch(client.build_file("TwoDay", "ISPB-T2", date(2026, 3, 25), ITEMS[:1]))
    assert client.batch_status("ISPB-T2") is not None


def test_statement_not_ready_no_change_and_lines(
    fake: fake_netcash.FakeNetcash, client: DebitOrderClient
) -> None:
    # Given an uploaded batch whose first collection is paid and second unpaid two days later
    client.upload_batch(client.build_file("TwoDay", "ISPB-T3", date(2026, 3, 25), ITEMS))
    fake.debit_orders.settle("c-1", "paid")
    fake.debit_orders.settle("c-2", "unpaid", day=date(2026, 3, 27), code="02")
    fake.debit_orders.statement_not_ready.add(date(2026, 3, 28))
    # When each day's statement is fetched
    # Then the action date has the paid line, the 27th the unpaid with its code, a quiet day is NO CHANGE,
    # and a day not ready says so
    paid = client.statement(date(2026, 3, 25))
    assert paid.ready and [(line.extra1, line.transaction_type) for line in paid.lines] == [("c-1", "TDD")]
    unpaid = client.statement(date(2026, 3, 27))
    assert [(line.extra1, line.unpaid_code) for line in unpaid.lines] == [("c-2", "02")]
    assert client.statement(date(2026, 3, 26)).ready and not client.statement(date(2026, 3, 26)).lines
    assert not client.statement(date(2026, 3, 28)).ready


def test_wrong_key_is_refused(fake: fake_netcash.FakeNetcash) -> None:
    # Given a client with a wrong debit order key / When it uploads / Then NetCash's 100 is a provider error
    transport = NetcashClient(
        base_url=f"{fake.url}/NIWS", debit_order_service_key="wrong", account_service_key="x"
    )
    with pytest.raises(ProviderError):
        DebitOrderClient(transport, SVK).upload_batch("H\n")
    transport.close()


@pytest.mark.parametrize(
    "instruction,keys,accepted",
    [
        ("CompactTwoDay", ["101", "162", "301"], True),
        ("TwoDay", ["101", "162", "301"], False),
        ("CompactTwoDay", ["101", "102", "131", "132", "133", "134", "135", "136", "162"], False),
        ("TwoDay", ["101", "102", "131", "132", "133", "134", "135", "136", "162"], True),
    ],
)
def test_the_fake_refuses_a_key_set_that_does_not_match_the_instruction(
    fake: fake_netcash.FakeNetcash,
    client: DebitOrderClient,
    instruction: str,
    keys: list[str],
    accepted: bool,
) -> None:
    # Given a hand-written file pairing an instruction with a key set
    values = {"101": "CUS-1", "102": "Name", "131": "1", "132": "Holder", "133": "1", "134": "470010"}
    values |= {"135": "0", "136": "1234567890", "162": "100", "301": "c-1"}
    header = [
        "H",
        fake_netcash.DEFAULT_DEBIT_ORDER_KEY,
        "1",
        instruction,
        f"ISPB-{instruction}",
        "20260325",
        SVK,
    ]
    lines = [header, ["K", *keys], ["T", *(values[key] for key in keys)], ["F", "1", "100", "9999"]]
    # When it is uploaded and its report read
    token = client.upload_batch("\n".join("\t".join(line) for line in lines) + "\n")
    client.load_report(token)
    report = client.load_report(token)
    # Then only the documented pairings load
    assert report is not None and report.accepted is accepted
    if not accepted:
        assert report.file_errors == [f"Key record does not match the instruction {instruction}"]


def test_the_client_sends_the_compact_instruction_with_its_compact_key_set(
    fake: fake_netcash.FakeNetcash, client: DebitOrderClient
) -> None:
    # Given a TwoDay batch of our collections / When uploaded / Then NetCash loads it as CompactTwoDay
    token = client.upload_batch(client.build_file("TwoDay", "ISPB-T9", date(2026, 3, 25), ITEMS))
    client.load_report(token)
    report = client.load_report(token)
    assert report is not None and report.accepted
    assert fake.debit_orders.batches["ISPB-T9"].instruction == "CompactTwoDay"
