"""NetCash debit orders: the H/K/T/F batch file, upload, load report, batch status, authorise, statement.

Formats are providers-netcash.md's (§2 batch upload and load report, §2.8 authorisation, §4 statement).
The bank details are not in the file: AddMandate put them on NetCash's masterfile under the account
reference (AddToMasterFile), and we keep only a masked account number. So a T record is the account
reference (key 101), the amount in cents (162) and our collection id in Extra 1 (301), which NetCash echoes
on the statement and which is how every result maps back without guessing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from isp_billing.errors import ProviderError, ValidationFailed
from isp_billing.observability import logger
from isp_billing.providers.netcash import (
    _ERROR_RESULT,
    _FILE_TOKEN,
    _NIF,
    FILE_NOT_READY,
    PROVIDER,
    NetcashClient,
    _code_error,
    _require,
    result_text,
    split_file_lines,
)

NO_CHANGE = "NO CHANGE"
TRANSACTION_KEYS = ("101", "162", "301")
# The key set above is NetCash's compact format (account reference, amount, extras, for references already
# on the masterfile): documented only with the compact instructions, so a batch type is sent as its compact
# instruction (providers-netcash.md §2.4-2.5). A `TwoDay` file would have to carry account name and bank
# details.
COMPACT_INSTRUCTIONS = {
    "TwoDay": "CompactTwoDay",
    "SameDay": "CompactSameDay",
    "Sameday": "CompactSameDay",
    "CompactTwoDay": "CompactTwoDay",
    "CompactSameDay": "CompactSameDay",
}
END_OF_FILE = "9999"
_BATCH_NOT_FOUND = {"320", ""}
_AUTHORISED = {"0", "000", "true"}
_UNPAID_CODE = re.compile(r"code\s*:?\s*([0-9]{2,3})", re.IGNORECASE)
# A batch name is our identifier; NetCash finds batches by it, so no tab or line break may ride in it.
_BATCH_NAME = re.compile(r"^[A-Za-z0-9 _\-]{1,50}$")


def _check_item(collection_id: str, account_reference: str, amount: Decimal) -> None:
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("collection amount: must be positive whole cents", field="amount")
    for value in (collection_id, account_reference):
        if not value or "\t" in value or "\r" in value or "\n" in value:
            raise ValidationFailed("collection: references may not be blank or hold tabs", field="id")


@dataclass(frozen=True, slots=True)
class Collection:
    """One T record: our collection (payment transaction) id, the NetCash account reference, the amount."""

    collection_id: str
    account_reference: str
    amount: Decimal

    def __post_init__(self) -> None:
        _check_item(self.collection_id, self.account_reference, self.amount)

    @property
    def cents(self) -> int:
        return int(self.amount * 100)


class BatchFile:
    """The tab-delimited H, K, T… and F records, `\\n`-separated (what integrators send), written into one
    buffer as collections are added: a 100,000-line batch is built while the claim's rows stream in, never
    held as rows, objects or a list of lines as well."""

    def __init__(
        self,
        *,
        service_key: str,
        software_vendor_key: str,
        instruction: str,
        batch_name: str,
        action_date: date,
    ) -> None:
        if not _BATCH_NAME.match(batch_name):
            raise ValidationFailed("batch name: letters, digits, spaces, _ and - only", field="batch_name")
        self.count = 0
        self.cents = 0
        self._buffer = io.StringIO()
        if instruction not in COMPACT_INSTRUCTIONS:
            raise ValidationFailed("instruction: a debit-order batch type", field="instruction")
        self.instruction = COMPACT_INSTRUCTIONS[instruction]
        header = ["H", service_key, "1", self.instruction, batch_name, action_date.strftime("%Y%m%d")]
        self._buffer.write("\t".join([*header, software_vendor_key]) + "\n")
        self._buffer.write("\t".join(["K", *TRANSACTION_KEYS]) + "\n")

    def add(self, collection_id: str, account_reference: str, amount: Decimal) -> None:
        _check_item(collection_id, account_reference, amount)
        cents = int(amount * 100)
        self.count += 1
        self.cents += cents
        self._buffer.write(f"T\t{account_reference}\t{cents}\t{collection_id}\n")

    def finish(self) -> str:
        """The whole file, F record included (the buffer is released)."""
        if not self.count:
            raise ValidationFailed("a batch needs at least one collection", field="collections")
        self._buffer.write(f"F\t{self.count}\t{self.cents}\t{END_OF_FILE}\n")
        text = self._buffer.getvalue()
        self._buffer.close()
        return text


def build_batch_file(
    *,
    service_key: str,
    software_vendor_key: str,
    instruction: str,
    batch_name: str,
    action_date: date,
    collections: Iterable[Collection],
) -> str:
    """The whole batch file of `collections` (BatchFile, for callers that hold the collections already)."""
    batch = BatchFile(
        service_key=service_key,
        software_vendor_key=software_vendor_key,
        instruction=instruction,
        batch_name=batch_name,
        action_date=action_date,
    )
    for item in collections:
        batch.add(item.collection_id, item.account_reference, item.amount)
    return batch.finish()


# -- load report (RequestFileUploadReport) ------------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    account_reference: str
    line: int | None
    message: str


@dataclass(frozen=True)
class LoadReport:
    batch_name: str
    result: str  # SUCCESSFUL, UNSUCCESSFUL, SUCCESSFUL WITH ERRORS
    file_errors: list[str] = field(default_factory=list)
    line_errors: list[LineError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether NetCash took the batch (valid lines) at all."""
        return self.result.startswith("SUCCESSFUL") and not self.file_errors

    def rejected_references(self) -> dict[str, str]:
        return {error.account_reference: error.message for error in self.line_errors}


_RESULTS = ("SUCCESSFUL WITH ERRORS", "UNSUCCESSFUL", "SUCCESSFUL")


def parse_load_report(text: str) -> LoadReport:
    """`###BEGIN <batch> <RESULT> <time> R<value> <date>` … `###END`; tabs or single spaces (both seen)."""
    lines = split_file_lines(text)
    begin = next((line for line in lines if line.lstrip().startswith("###BEGIN")), None)
    if begin is None or not any(line.lstrip().startswith("###END") for line in lines):
        raise ProviderError(
            "NetCash load report is incomplete or malformed", provider=PROVIDER, code="unreadable"
        )
    header = re.sub(r"\s+", " ", begin.replace("###BEGIN", "", 1)).strip()
    result = next((r for r in _RESULTS if f" {r} " in f" {header} "), None)
    if result is None:
        raise ProviderError("NetCash load report has no result", provider=PROVIDER, code="unreadable")
    batch_name = header.split(f" {result} ", 1)[0].strip() if f" {result} " in f" {header} " else ""
    file_errors: list[str] = []
    line_errors: list[LineError] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("###ERROR"):
            file_errors.append(stripped.removeprefix("###ERROR").lstrip(": ").split("\t", 1)[0].strip())
        elif stripped.lower().startswith("acc ref"):
            columns = [c.strip() for c in stripped.split("\t")]
            reference = columns[0].split(":", 1)[-1].strip()
            number = columns[1].split(":", 1)[-1].strip() if len(columns) > 1 else ""
            message = columns[2] if len(columns) > 2 else "rejected by NetCash"
            line_errors.append(LineError(reference, int(number) if number.isdigit() else None, message))
    return LoadReport(batch_name, result, file_errors, line_errors)


# -- batch status -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchStatus:
    batch_id: str  # NetCash's GUID: RequestBatchAuthorise's BatchIndicator
    batch_name: str
    status: str
    volume: int | None


def parse_batch_status(text: str, batch_name: str) -> BatchStatus | None:
    """`serviceKey, batchId, batchName, status, volume, value` per line; the line of `batch_name`, if any."""
    for line in split_file_lines(text):
        columns = [c.strip() for c in line.split("\t")]
        if len(columns) >= 4 and columns[2] == batch_name:
            volume = int(columns[4]) if len(columns) > 4 and columns[4].isdigit() else None
            return BatchStatus(columns[1], columns[2], columns[3], volume)
    return None


# -- statement (RetrieveMerchantStatement) ------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    transaction_date: date
    transaction_type: str
    transaction_id: str
    description: str
    amount: Decimal
    sign: str
    extra1: str

    @property
    def unpaid_code(self) -> str | None:
        """The reason code of an unpaid (DRU) line, parsed out of its description (`…-Code:02`)."""
        match = _UNPAID_CODE.search(self.description)
        return match.group(1).zfill(2) if match else None


def _parse_date(value: str) -> date:
    text = value.strip()
    for pattern in ("%Y%m%d", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(text[:10], pattern).date()
        except ValueError:
            continue
    raise ValueError(f"unreadable statement date {text!r}")


def parse_statement_amount(value: str) -> Decimal:
    """The doc says cents, the fixtures show decimal Rands: a decimal point means Rands, digits only cents."""
    text = value.strip().replace(",", "")
    try:
        amount = Decimal(text) if "." in text else Decimal(int(text)) / 100
    except (InvalidOperation, ValueError):
        raise ValueError(f"unreadable statement amount {value!r}") from None
    return amount.quantize(Decimal("0.01"))


def parse_statement(text: str) -> list[StatementLine]:
    """Detail lines of a daily statement (opening/closing balances and wrapper records skipped)."""
    lines: list[StatementLine] = []
    for line in split_file_lines(text):
        columns = [c.strip() for c in line.split("\t")]
        if len(columns) < 8 or columns[1] in {"OBL", "CBL"} or columns[0] in {"FH", "SH", "SF", "FF"}:
            continue
        try:
            lines.append(
                StatementLine(
                    transaction_date=_parse_date(columns[0]),
                    transaction_type=columns[1],
                    transaction_id=columns[2],
                    description=columns[3],
                    amount=parse_statement_amount(columns[4]),
                    sign=columns[5] or "+",
                    extra1=columns[7],
                )
            )
        except ValueError:
            logger.warning("skipped an unreadable NetCash statement line", extra={"columns": len(columns)})
    return lines


@dataclass(frozen=True)
class Statement:
    """A day's statement: `ready` False means FILE NOT READY (try later); NO CHANGE is ready and empty."""

    ready: bool
    lines: list[StatementLine] = field(default_factory=list)


# -- client -------------------------------------------------------------------------------------------------


class DebitOrderClient:
    """The debit-order methods of NIWS_NIF, on the transport of a NetcashClient (one connection pool)."""

    def __init__(self, client: NetcashClient, software_vendor_key: str) -> None:
        self._client = client
        self._software_vendor_key = software_vendor_key

    def _debit_key(self) -> str:
        return _require(self._client._debit_order_key, "NETCASH_DEBIT_ORDER_SERVICE_KEY")

    def _account_key(self) -> str:
        return _require(self._client._account_key, "NETCASH_ACCOUNT_SERVICE_KEY")

    def _string(self, method: str, params: list[tuple[str, str]]) -> str:
        return result_text(self._client._call(_NIF, method, params))

    def batch_file(self, instruction: str, batch_name: str, action_date: date) -> BatchFile:
        """An empty batch file (H and K written) that collections are added to as they are claimed."""
        return BatchFile(
            service_key=self._debit_key(),
            software_vendor_key=self._software_vendor_key,
            instruction=instruction,
            batch_name=batch_name,
            action_date=action_date,
        )

    def build_file(
        self, instruction: str, batch_name: str, action_date: date, items: Sequence[Collection]
    ) -> str:
        """The whole file of collections already in hand (the run streams into `batch_file` instead)."""
        return build_batch_file(
            service_key=self._debit_key(),
            software_vendor_key=self._software_vendor_key,
            instruction=instruction,
            batch_name=batch_name,
            action_date=action_date,
            collections=items,
        )

    def upload_batch(self, batch_file: str) -> str:
        """BatchFileUpload: the file token. Failing to read one raises ProviderError (outcome unknown)."""
        token = self._string("BatchFileUpload", [("ServiceKey", self._debit_key()), ("File", batch_file)])
        if _ERROR_RESULT.match(token) or not _FILE_TOKEN.match(token):
            raise _code_error("BatchFileUpload", token)
        return token

    def load_report(self, file_token: str) -> LoadReport | None:
        """RequestFileUploadReport; None while NetCash answers FILE NOT READY."""
        text = self._string(
            "RequestFileUploadReport", [("ServiceKey", self._debit_key()), ("FileToken", file_token)]
        )
        if text.upper() == FILE_NOT_READY:
            return None
        if _ERROR_RESULT.match(text):
            raise _code_error("RequestFileUploadReport", text)
        return parse_load_report(text)

    def batch_status(self, batch_name: str) -> BatchStatus | None:
        """RetrieveSpecificBatchStatus: the batch NetCash holds under our name, or None (never reached it)."""
        text = self._string(
            "RetrieveSpecificBatchStatus", [("ServiceKey", self._debit_key()), ("BatchName", batch_name)]
        )
        if text in _BATCH_NOT_FOUND:
            return None
        if _ERROR_RESULT.match(text):
            raise _code_error("RetrieveSpecificBatchStatus", text)
        return parse_batch_status(text, batch_name)

    def authorise_batch(self, batch_id: str) -> None:
        """RequestBatchAuthorise (needs NetCash's Auto Authorisation on the profile, else 322)."""
        result = self._string(
            "RequestBatchAuthorise",
            [
                ("ServiceKey", self._debit_key()),
                ("BatchIndicator", batch_id),
                ("SendEmail", "false"),
                ("FromName", ""),
                ("FromAddress", ""),
                ("SendSMS", "false"),
                ("ReleaseFunds", "true"),
                ("BankTransfer", "false"),
            ],
        )
        if result.lower() not in _AUTHORISED:
            raise _code_error("RequestBatchAuthorise", result)

    def statement(self, day: date) -> Statement:
        """The statement from `day` (RequestMerchantStatement, then one RetrieveMerchantStatement poll)."""
        key = self._account_key()
        polling_id = self._string(
            "RequestMerchantStatement", [("ServiceKey", key), ("FromActionDate", day.strftime("%Y%m%d"))]
        )
        if _ERROR_RESULT.match(polling_id) or not polling_id:
            raise _code_error("RequestMerchantStatement", polling_id)
        text = self._string("RetrieveMerchantStatement", [("ServiceKey", key), ("PollingId", polling_id)])
        if text.upper() == FILE_NOT_READY:
            return Statement(ready=False)
        if text.upper() == NO_CHANGE:
            return Statement(ready=True)
        if _ERROR_RESULT.match(text):
            raise _code_error("RetrieveMerchantStatement", text)
        return Statement(ready=True, lines=parse_statement(text))
