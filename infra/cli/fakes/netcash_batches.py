"""The fake NetCash's debit-order side: batch upload, load report, batch status, authorise, daily statement.

Formats as providers-netcash.md gives them:

- `BatchFileUpload(ServiceKey, File)` validates H (7 fields, version 1, CCYYMMDD, a known instruction),
  K (known keys, and the set the instruction is documented with: a compact instruction only masterfile
  references and extras, `TwoDay`/`SameDay` the account name and bank details too), every T (column
  count = K; 162 whole cents; account reference unique in the file) and F (count, cents sum, `9999`), and
  returns a dotted numeric file token. A file that breaks the structure gets a load report `UNSUCCESSFUL`
  with `###ERROR: <message>`; lines whose account reference is in `reject_references` are reported as
  `Acc Ref :<ref>\\tLine :<n>\\t<message>` (`SUCCESSFUL WITH ERRORS`: the profile's "Ignore errors" is
  on); the batch is recorded under its name, unauthorised.
- `RequestFileUploadReport(ServiceKey, FileToken)`: `FILE NOT READY` for the first `report_not_ready_polls`
  polls, then `###BEGIN\\t<name>\\t<RESULT>\\t<HH:MM>\\tR<value>\\t<CCYYMMDD>` … `###END\\t<HH:MM>`.
- `RetrieveSpecificBatchStatus(ServiceKey, BatchName)`: `key\\tGUID\\tname\\tstatus\\tvolume\\tvalue`
  or `320`.
- `RequestBatchAuthorise(ServiceKey, BatchIndicator, …)`: `0`, `320` unknown batch, `322` when
  `auto_authorise_allowed` is off, `200` for a batch already authorised (refused; counted in
  `FakeBatch.authorisations`).
- `RequestMerchantStatement(ServiceKey=account key, FromActionDate)` returns a polling id;
  `RetrieveMerchantStatement` returns `FILE NOT READY` for days in `statement_not_ready`, `NO CHANGE`
  for a day without lines, else tab-delimited lines (date, type, id, description, amount Rands, sign,
  VAT, Extra 1-3, ledger). Lines are added by `settle(...)`: `TDD` on the action date for a paid debit,
  then `DRU` with `Debit order unpaid -Code:NN` on the day given, or a dispute.

Test hooks: `auto_settle` (the demo: authorised lines are paid on their action date),
`batches`, `reject_references`, `lose_next_upload_answer` (the upload is processed, then the
answer is garbage: an upload whose outcome the client cannot know), `settle`, `statement_not_ready`.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# The fake's answer to RequestBatchAuthorise for a batch already authorised (a general error, 200, in the
# circletel code table; NetCash's own answer is not documented): never processed twice.
ALREADY_AUTHORISED = "200"
KNOWN_INSTRUCTIONS = {"TwoDay", "SameDay", "Sameday", "CompactTwoDay", "CompactSameDay"}
KNOWN_KEYS = {
    "101",
    "102",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "161",
    "162",
    "201",
    "202",
    "281",
    "301",
    "302",
    "303",
}


# The documented pairings (providers-netcash.md §2.4): a compact instruction carries only references already
# on the masterfile (no account name or bank details); a full one carries the account name and bank details.
COMPACT_KEYS = {"101", "162", "281", "301", "302", "303"}
FULL_REQUIRED_KEYS = {"101", "102", "131", "132", "133", "134", "135", "136", "162"}


def _keys_fit_instruction(instruction: str, keys: list[str]) -> bool:
    if instruction.startswith("Compact"):
        return set(keys) <= COMPACT_KEYS
    if instruction in ("TwoDay", "SameDay", "Sameday"):
        return set(keys) >= FULL_REQUIRED_KEYS
    return True


@dataclass
class FakeBatchLine:
    line: int
    account_reference: str
    cents: int
    extra1: str


@dataclass
class FakeBatch:
    name: str
    token: str
    guid: str
    instruction: str
    action_date: date
    lines: list[FakeBatchLine]
    result: str
    file_errors: list[str] = field(default_factory=list)
    line_errors: list[tuple[FakeBatchLine, str]] = field(default_factory=list)
    authorised: bool = False
    authorisations: int = 0  # RequestBatchAuthorise calls for this batch, the refused ones included
    report_polls: int = 0

    @property
    def accepted_lines(self) -> list[FakeBatchLine]:
        rejected = {id(line) for line, _ in self.line_errors}
        return [line for line in self.lines if id(line) not in rejected]


@dataclass
class FakeStatementLine:
    day: date
    kind: str
    transaction_id: str
    description: str
    amount: Decimal
    sign: str
    extra1: str

    def render(self) -> str:
        return "\t".join(
            [
                self.day.strftime("%Y%m%d"),
                self.kind,
                self.transaction_id,
                self.description,
                f"{self.amount:.2f}",
                self.sign,
                "0.00",
                self.extra1,
                "",
                "",
                "Debtors",
            ]
        )


class FakeDebitOrders:
    def __init__(
        self, debit_order_service_key: str, account_service_key: str, report_not_ready_polls: int
    ) -> None:
        self.debit_order_service_key = debit_order_service_key
        self.account_service_key = account_service_key
        self.report_not_ready_polls = report_not_ready_polls
        self.reject_references: dict[str, str] = {}
        self.lose_next_upload_answer = False
        # `serve --demo`: an authorised batch's lines appear as paid (TDD) on its action date's statement.
        self.auto_settle = False
        self.auto_authorise_allowed = True
        self.statement_not_ready: set[date] = set()
        self.statement_lines: list[FakeStatementLine] = []
        self._batches: dict[str, FakeBatch] = {}
        self._polls: dict[str, date] = {}
        self._sequence = 0
        self._lock = threading.RLock()

    # -- hooks ---------------------------------------------------------------------------------------------

    @property
    def batches(self) -> dict[str, FakeBatch]:
        with self._lock:
            return dict(self._batches)

    def settle(
        self, extra1: str, outcome: str = "paid", *, day: date | None = None, code: str = "02"
    ) -> FakeStatementLine:
        """Put a result for collection `extra1` on the statement: `paid` (TDD on its action date or `day`),
        `unpaid` (DRU with `code` on `day`), or `disputed` (DRU code 30 on `day`, after a paid line)."""
        with self._lock:
            batch, line = next(
                (b, item)
                for b in self._batches.values()
                for item in b.accepted_lines
                if item.extra1 == extra1
            )
            self._sequence += 1
            when = day or batch.action_date
            amount = Decimal(line.cents) / 100
            if outcome == "paid":
                entry = FakeStatementLine(
                    when, "TDD", f"{self._sequence}", "Two day debit order", amount, "+", extra1
                )
            else:
                reason = code if outcome == "unpaid" else "30"
                entry = FakeStatementLine(
                    when,
                    "DRU",
                    f"{self._sequence}",
                    f"Debit order unpaid -Code:{reason}",
                    amount,
                    "-",
                    extra1,
                )
            self.statement_lines.append(entry)
            return entry

    # -- SOAP methods --------------------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, str]) -> str | None:
        handlers = {
            "BatchFileUpload": self._upload,
            "RequestFileUploadReport": self._report,
            "RetrieveSpecificBatchStatus": self._status,
            "RequestBatchAuthorise": self._authorise,
            "RequestMerchantStatement": self._request_statement,
            "RetrieveMerchantStatement": self._retrieve_statement,
        }
        handler = handlers.get(method)
        return handler(params) if handler else None

    def _upload(self, params: dict[str, str]) -> str:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return "100"
        text = params.get("File", "")
        with self._lock:
            self._sequence += 1
            token = f"{date.today():%Y%m%d}.{self._sequence:010d}.0483.2.2"
            batch = self._parse(text, token)
            self._batches[batch.name] = batch
            if self.lose_next_upload_answer:
                self.lose_next_upload_answer = False
                return "<html>upstream reset"
        return token

    def _parse(self, text: str, token: str) -> FakeBatch:
        records = [line.split("\t") for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
        errors: list[str] = []
        header = records[0] if records else []
        name = header[4] if len(header) > 4 else f"unnamed-{token}"
        action = date.min
        if len(header) != 7 or header[0] != "H" or header[2] != "1":
            errors.append("Header record is invalid")
        elif header[1] != self.debit_order_service_key:
            errors.append("Service key in the header is invalid")
        elif header[3] not in KNOWN_INSTRUCTIONS:
            errors.append("Instruction is invalid")
        else:
            try:
                action = datetime.strptime(header[5], "%Y%m%d").date()
            except ValueError:
                errors.append("Action date is invalid")
        keys = records[1][1:] if len(records) > 1 and records[1][0] == "K" else []
        if not keys or any(key not in KNOWN_KEYS for key in keys) or "101" not in keys or "162" not in keys:
            errors.append("Key record is invalid")
        elif not errors and not _keys_fit_instruction(header[3], keys):
            errors.append(f"Key record does not match the instruction {header[3]}")
        body = [r for r in records[2:] if r[0] == "T"]
        lines: list[FakeBatchLine] = []
        line_errors: list[tuple[FakeBatchLine, str]] = []
        seen: set[str] = set()
        for number, record in enumerate(body, start=3):
            if len(record) != len(keys) + 1 or not keys:
                errors.append(f"Line {number}: column count does not match the key record")
                continue
            values = dict(zip(keys, record[1:], strict=True))
            if not values["162"].isdigit():
                errors.append(f"Line {number}: amount is not in cents")
                continue
            line = FakeBatchLine(number, values["101"], int(values["162"]), values.get("301", ""))
            lines.append(line)
            if line.account_reference in seen:
                line_errors.append((line, "Duplicate account reference in T (transaction) records"))
            elif line.account_reference in self.reject_references:
                line_errors.append((line, self.reject_references[line.account_reference]))
            seen.add(line.account_reference)
        footer = records[-1] if records else []
        if (
            len(footer) != 4
            or footer[0] != "F"
            or footer[1] != str(len(body))
            or footer[2] != str(sum(line.cents for line in lines))
            or footer[3] != "9999"
        ):
            errors.append("Footer record does not match the transactions")
        if errors:
            result = "UNSUCCESSFUL"
        elif line_errors:
            result = "SUCCESSFUL WITH ERRORS"
        else:
            result = "SUCCESSFUL"
        return FakeBatch(
            name,
            token,
            str(uuid.uuid4()),
            header[3] if len(header) > 3 else "",
            action,
            lines,
            result,
            errors,
            line_errors,
        )

    def _report(self, params: dict[str, str]) -> str:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return "100"
        with self._lock:
            batch = next((b for b in self._batches.values() if b.token == params.get("FileToken")), None)
            if batch is None:
                return "102"
            batch.report_polls += 1
            if batch.report_polls <= self.report_not_ready_polls:
                return "FILE NOT READY"
            value = Decimal(sum(line.cents for line in batch.accepted_lines)) / 100
            lines = [
                f"###BEGIN\t{batch.name}\t{batch.result}\t09:33\tR{value:.2f}\t{batch.action_date:%Y%m%d}"
            ]
            lines += [
                f"###ERROR: {message}\tR{value:.2f}\t{batch.action_date:%Y%m%d}"
                for message in batch.file_errors
            ]
            lines += [
                f"Acc Ref :{line.account_reference}\tLine :{line.line}\t{message}\t{secrets.randbelow(99999)}"
                for line, message in batch.line_errors
            ]
            lines += ["", "###END\t09:33"]
        return "\r\n".join(lines)

    def _status(self, params: dict[str, str]) -> str:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return "100"
        with self._lock:
            batch = self._batches.get(params.get("BatchName", ""))
            if batch is None or batch.result == "UNSUCCESSFUL":
                return "320"
            status = "Authorised" if batch.authorised else "Unauthorised"
            value = Decimal(sum(line.cents for line in batch.accepted_lines)) / 100
            return "\t".join(
                [
                    params["ServiceKey"],
                    batch.guid,
                    batch.name,
                    status,
                    str(len(batch.accepted_lines)),
                    f"{value:.2f}",
                ]
            )

    def _authorise(self, params: dict[str, str]) -> str:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return "100"
        if not self.auto_authorise_allowed:
            return "322"
        with self._lock:
            batch = next((b for b in self._batches.values() if b.guid == params.get("BatchIndicator")), None)
            if batch is None:
                return "320"
            batch.authorisations += 1
            if batch.authorised:
                # A second authorisation of the same batch is refused, so a client that repeats one shows.
                return ALREADY_AUTHORISED
            batch.authorised = True
            if self.auto_settle:
                for line in batch.accepted_lines:
                    self.settle(line.extra1, "paid")
        return "0"

    def _request_statement(self, params: dict[str, str]) -> str:
        if params.get("ServiceKey") != self.account_service_key:
            return "100"
        try:
            day = datetime.strptime(params.get("FromActionDate", ""), "%Y%m%d").date()
        except ValueError:
            return "101"
        with self._lock:
            polling_id = secrets.token_hex(8)
            self._polls[polling_id] = day
        return polling_id

    def _retrieve_statement(self, params: dict[str, str]) -> str:
        if params.get("ServiceKey") != self.account_service_key:
            return "100"
        with self._lock:
            day = self._polls.get(params.get("PollingId", ""))
            if day is None:
                return "102"
            if day in self.statement_not_ready:
                return "FILE NOT READY"
            lines = [line.render() for line in self.statement_lines if line.day == day]
        if not lines:
            return "NO CHANGE"
        opening = "\t".join(
            [f"{day:%Y%m%d}", "OBL", "0", "Opening balance", "0.00", "+", "0.00", "", "", "", ""]
        )
        return "\r\n".join([opening, *lines])

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"batches": len(self._batches), "statement_lines": len(self.statement_lines)}
