"""Pure NetCash debit-order formats: the H/K/T/F batch file field by field, load reports, statements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from isp_billing.errors import ProviderError, ValidationFailed
from isp_billing.providers.netcash_debit_orders import (
    BatchFile,
    Collection,
    build_batch_file,
    parse_batch_status,
    parse_load_report,
    parse_statement,
    parse_statement_amount,
)

KEY = "C74EXXX5-5499-4663-85FB-2A6XXXXFB9EF"
SVK = "24ade73c-98cf-47b3-99be-cc7b867b3080"


def test_batch_file_field_by_field() -> None:
    # Given two collections for an action date
    items = [
        Collection("0b6f0c1e-aaaa-4bbb-8ccc-000000000001", "CUS-2026-00001", Decimal("699.00")),
        Collection("0b6f0c1e-aaaa-4bbb-8ccc-000000000002", "CUS-2026-00002", Decimal("1234.56")),
    ]
    # When the batch file is built
    text = build_batch_file(
        service_key=KEY,
        software_vendor_key=SVK,
        instruction="TwoDay",
        batch_name="ISPB-20260325-ab12",
        action_date=date(2026, 3, 25),
        collections=items,
    )
    # Then it is \n-separated, tab-delimited H, K, T, T, F (providers-netcash.md §2.2-2.6)
    assert text.endswith("\n") and "\r" not in text
    records = [line.split("\t") for line in text.rstrip("\n").split("\n")]
    assert [r[0] for r in records] == ["H", "K", "T", "T", "F"]
    # H: identifier, service key, version 1, instruction, batch name, CCYYMMDD, software vendor key; the
    # instruction is the compact one that goes with the compact key set (a TwoDay batch: CompactTwoDay)
    assert records[0] == ["H", KEY, "1", "CompactTwoDay", "ISPB-20260325-ab12", "20260325", SVK]
    # K: account reference (101), amount in cents (162), Extra 1 (301)
    assert records[1] == ["K", "101", "162", "301"]
    # T: values in K order, amount in cents, our collection id in Extra 1
    assert records[2] == ["T", "CUS-2026-00001", "69900", "0b6f0c1e-aaaa-4bbb-8ccc-000000000001"]
    assert records[3] == ["T", "CUS-2026-00002", "123456", "0b6f0c1e-aaaa-4bbb-8ccc-000000000002"]
    # F: count of T records, sum of cents, the 9999 end-of-file indicator
    assert records[4] == ["F", "2", str(69900 + 123456), "9999"]


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00"), Decimal("1.001")])
def test_a_collection_must_be_positive_whole_cents(amount: Decimal) -> None:
    # Given a bad amount / When a collection is made / Then it is refused before any file exists
    with pytest.raises(ValidationFailed):
        Collection("id-1", "CUS-2026-00001", amount)


def test_batch_name_may_not_carry_a_tab() -> None:
    # Given a batch name with a tab / When the file is built / Then it is refused
    with pytest.raises(ValidationFailed):
        build_batch_file(
            service_key=KEY,
            software_vendor_key=SVK,
            instruction="TwoDay",
            batch_name="a\tb",
            action_date=date(2026, 3, 25),
            collections=[Collection("i", "CUS-1", Decimal("1.00"))],
        )


def _batch_file() -> BatchFile:
    return BatchFile(
        service_key=KEY,
        software_vendor_key=SVK,
        instruction="TwoDay",
        batch_name="ISPB-20260325-ab12",
        action_date=date(2026, 3, 25),
    )


def test_a_batch_file_written_line_by_line_is_the_built_file() -> None:
    # Given collections added one at a time, as the claim streams them
    items = [
        Collection("0b6f0c1e-aaaa-4bbb-8ccc-000000000001", "CUS-2026-00001", Decimal("699.00")),
        Collection("0b6f0c1e-aaaa-4bbb-8ccc-000000000002", "CUS-2026-00002", Decimal("1234.56")),
    ]
    batch = _batch_file()
    for item in items:
        batch.add(item.collection_id, item.account_reference, item.amount)
    # When it is finished
    text = batch.finish()
    # Then it counts and sums what was added, and is byte for byte the file built from the list
    assert (batch.count, batch.cents) == (2, 69900 + 123456)
    assert text == build_batch_file(
        service_key=KEY,
        software_vendor_key=SVK,
        instruction="TwoDay",
        batch_name="ISPB-20260325-ab12",
        action_date=date(2026, 3, 25),
        collections=items,
    )


@pytest.mark.parametrize(
    ("reference", "amount"),
    [("CUS-2026-00001", Decimal("1.001")), ("CUS-2026-00001", Decimal("0")), ("CUS\t1", Decimal("1.00"))],
)
def test_a_streamed_line_is_checked_as_a_collection_is(reference: str, amount: Decimal) -> None:
    # Given a batch file being written / When a bad line is added / Then it is refused
    with pytest.raises(ValidationFailed):
        _batch_file().add("id-1", reference, amount)


def test_an_empty_batch_file_is_refused() -> None:
    # Given a batch file nothing was added to / When it is finished / Then it is refused (NetCash needs a T)
    with pytest.raises(ValidationFailed):
        _batch_file().finish()


def test_load_reports_in_both_separator_styles() -> None:
    # Given the three fixture shapes of providers-netcash.md §2.7
    failed = (
        "###BEGIN\t84\tUNSUCCESSFUL\t16:52\tR12568.20\t20200922\r\n"
        "###ERROR: Action date is not valid for this instruction\tR12568.20\t20200922\r\n\r\n###END 16:52"
    )
    lines = (
        "###BEGIN\t87\tSUCCESSFUL WITH ERRORS\t09:33\tR16672.00\t20201006\n"
        "Acc Ref :1158\tLine :6\tDuplicate account reference in T (transaction) records"
        "\t78492\tENV:STAGING\n\n"
        "###END\t09:33"
    )
    ok = "###BEGIN MY TEST BATCH SUCCESSFUL 01:59 PM R1.00 20160410\n###END 01:59 PM"
    # When parsed
    report_failed, report_lines, report_ok = (parse_load_report(t) for t in (failed, lines, ok))
    # Then the file error, the line error by account reference and the clean success are told apart
    assert not report_failed.accepted
    assert report_failed.file_errors == ["Action date is not valid for this instruction"]
    assert report_lines.accepted
    assert report_lines.rejected_references() == {
        "1158": "Duplicate account reference in T (transaction) records"
    }
    assert report_lines.line_errors[0].line == 6
    assert report_ok.accepted and report_ok.batch_name == "MY TEST BATCH"


def test_an_unreadable_load_report_is_an_error() -> None:
    # Given a report without its END marker / When parsed / Then it is a provider error, not a success
    with pytest.raises(ProviderError):
        parse_load_report("###BEGIN\tx\tSUCCESSFUL\t09:00\tR1.00\t20260101")


def test_batch_status_line() -> None:
    # Given RetrieveSpecificBatchStatus's tab-delimited answer
    text = f"{KEY}\t6f1d7a4e-0000-4000-8000-000000000001\tISPB-1\tUnauthorised\t2\t10.00"
    # When parsed / Then NetCash's GUID for the batch is read
    status = parse_batch_status(text, "ISPB-1")
    assert status is not None and status.batch_id.startswith("6f1d7a4e") and status.volume == 2
    assert parse_batch_status(text, "ISPB-2") is None


def test_statement_lines_in_both_documented_forms() -> None:
    # Given an opening balance, a paid debit in Rands with CCYYMMDD, and an unpaid in cents with ISO dates
    text = (
        "20260325\tOBL\t0\tOpening balance\t0.00\t+\t0.00\t\t\t\t\r\n"
        "20260325\tTDD\t11\tTwo day debit order\t699.00\t+\t0.00\tcoll-1\t\t\tDebtors\r\n"
        "2026-03-27\tDRU\t12\tDebit order unpaid -Code:02\t69900\t-\t0\tcoll-2\t\t\tDebtors"
    )
    # When parsed
    paid, unpaid = parse_statement(text)
    # Then the balance is skipped, amounts agree, and the unpaid's reason code is read from its description
    assert (paid.transaction_type, paid.amount, paid.extra1, paid.unpaid_code) == (
        "TDD",
        Decimal("699.00"),
        "coll-1",
        None,
    )
    assert (unpaid.transaction_date, unpaid.amount, unpaid.unpaid_code) == (
        date(2026, 3, 27),
        Decimal("699.00"),
        "02",
    )
    assert parse_statement_amount("12.5") == Decimal("12.50")


@pytest.mark.parametrize(
    "batch_type,instruction",
    [("TwoDay", "CompactTwoDay"), ("SameDay", "CompactSameDay"), ("CompactTwoDay", "CompactTwoDay")],
)
def test_the_instruction_matches_the_compact_key_set(batch_type: str, instruction: str) -> None:
    # Given a batch type / When its file is built / Then the header names the compact instruction
    text = build_batch_file(
        service_key=KEY,
        software_vendor_key=SVK,
        instruction=batch_type,
        batch_name="ISPB-1",
        action_date=date(2026, 3, 25),
        collections=[Collection("id-1", "CUS-2026-00001", Decimal("1.00"))],
    )
    assert text.split("\n")[0].split("\t")[3] == instruction
