"""NetCash client: bank-account validation, eMandates (AddMandate) and mandate status polling over SOAP 1.1.

NetCash has no sandbox, so this client is exercised against `isp_billing_cli.fakes.netcash` in tests.
Authentication is a service key passed as a SOAP parameter (Debit Order key for mandates, Account key for
validation); a wrong key comes back as the result `100`, not as an HTTP error.

Privacy: the bank account number is passed in, sent, and forgotten. It never lands on the client, in a log
line, in an exception message or in a repr. Service keys live in `SecretStr` and are only unwrapped into the
request.

Calls are not retried: AddMandate is not idempotent (a retry after a timeout could create a second mandate),
and the callers (an API request, a polling job) can simply try again.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from xml.etree import ElementTree as ET

import httpx
from pydantic import SecretStr

from isp_billing.errors import ConfigurationError, ProviderError, ValidationFailed
from isp_billing.money import format_money
from isp_billing.observability import logger
from isp_billing.settings import Settings

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI_NS = "http://tempuri.org/"
FILE_NOT_READY = "FILE NOT READY"
PROVIDER = "netcash"

# NetCash answers string-returning methods with a bare code on failure: 100 auth, 101 date format, 102
# parameter, 200 general error, and other three-digit codes seen in the wild.
_ERROR_RESULT = re.compile(r"^\d{1,3}$")
_FILE_TOKEN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]*$")
_DIGIT_RUN = re.compile(r"\d{5,}")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")


class MandateStatus(StrEnum):
    """Our mandate statuses (customer_payment_methods.mandate_status)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class BankAccountType(StrEnum):
    """Our account types (customer_payment_methods.account_type), with NetCash's two encodings of each."""

    CHEQUE = "cheque"
    SAVINGS = "savings"
    TRANSMISSION = "transmission"

    @property
    def netcash_code(self) -> int:
        """ValidateBankAccount and batch files use the numbers of `MandateOptions.BankAccountType`."""
        return {"cheque": 1, "savings": 2, "transmission": 3}[self.value]

    @property
    def netcash_name(self) -> str:
        """AddMandate takes the enum member names; "Current" is NetCash's word for a cheque account."""
        return {"cheque": "Current", "savings": "Savings", "transmission": "Transmission"}[self.value]

    @classmethod
    def parse(cls, value: BankAccountType | str) -> BankAccountType:
        text = str(value).strip().lower()
        if text == "current":
            return cls.CHEQUE
        try:
            return cls(text)
        except ValueError:
            raise ValidationFailed(
                "account_type: must be one of cheque, savings, transmission", field="account_type"
            ) from None


# NetCash mandate status codes (RetrieveMandateData column 0) mapped to ours. 4 "failed" counts as declined;
# capturing (1, 8, 11), awaiting authorisation (2), details changed (7), verified (9) and unverified (10) are
# all still waiting on the customer or NetCash.
NETCASH_MANDATE_STATUS: Mapping[int, MandateStatus] = {
    6: MandateStatus.ACCEPTED,
    5: MandateStatus.DECLINED,
    4: MandateStatus.DECLINED,
    3: MandateStatus.EXPIRED,
    1: MandateStatus.PENDING,
    2: MandateStatus.PENDING,
    7: MandateStatus.PENDING,
    8: MandateStatus.PENDING,
    9: MandateStatus.PENDING,
    10: MandateStatus.PENDING,
    11: MandateStatus.PENDING,
}

_VALIDATION_RESULTS: Mapping[str, tuple[str, str]] = {
    "1": ("branch_code", "branch_code: invalid branch code"),
    "2": (
        "account_number",
        "account_number: failed check-digit validation for this branch code and account type",
    ),
    "3": ("account_type", "account_type: invalid account type for this account"),
    "4": ("bank_account", "bank account details are incorrect (account number, branch code or account type)"),
}


def mask_account_number(account_number: str) -> str:
    """The only form of an account number we keep or show: `****1234`."""
    digits = "".join(ch for ch in account_number if ch.isalnum())
    return "****" + digits[-4:] if len(digits) > 4 else "****"


# ------------------------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, repr=False)
class MandateRequest:
    """One eMandate for AddMandate. Personal fields stay out of repr so a stray log line cannot leak them."""

    account_reference: str
    mandate_name: str
    mandate_amount: Decimal
    first_name: str
    surname: str
    mobile_number: str
    email_address: str
    bank_account_name: str
    bank_account_number: str
    branch_code: str
    account_type: BankAccountType
    agreement_date: date
    agreement_reference: str
    field1: str
    commencement_month: int
    commencement_day: str = "01"
    is_consumer: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.mandate_amount, Decimal):
            raise ValidationFailed(
                "mandate_amount: must be a Decimal amount in Rands", field="mandate_amount"
            )
        if not self.mandate_amount.is_finite() or self.mandate_amount <= 0:
            raise ValidationFailed("mandate_amount: must be greater than zero", field="mandate_amount")
        if self.mandate_amount != self.mandate_amount.quantize(Decimal("0.01")):
            raise ValidationFailed("mandate_amount: must be whole cents", field="mandate_amount")
        if not 1 <= self.commencement_month <= 12:
            raise ValidationFailed("commencement_month: must be 1 to 12", field="commencement_month")
        day = self.commencement_day.strip().upper()
        if day != "LDOM" and not (day.isdigit() and 1 <= int(day) <= 31):
            raise ValidationFailed("commencement_day: must be 01 to 31 or LDOM", field="commencement_day")
        for name in (
            "account_reference",
            "agreement_reference",
            "field1",
            "bank_account_number",
            "branch_code",
        ):
            if not str(getattr(self, name)).strip():
                raise ValidationFailed(f"{name}: is required", field=name)
        object.__setattr__(self, "account_type", BankAccountType.parse(self.account_type))

    @property
    def account_number_masked(self) -> str:
        return mask_account_number(self.bank_account_number)

    def __repr__(self) -> str:
        return (
            f"MandateRequest(account_reference={self.account_reference!r}, field1={self.field1!r}, "
            f"mandate_amount={self.mandate_amount}, account={self.account_number_masked})"
        )

    __str__ = __repr__

    def personal_values(self) -> list[str]:
        """Values to scrub from anything NetCash echoes back before we keep or log it."""
        values = [
            self.bank_account_number,
            self.first_name,
            self.surname,
            self.mandate_name,
            self.bank_account_name,
            self.mobile_number,
            self.email_address,
        ]
        return [v for v in values if v and len(v.strip()) >= 3]


@dataclass(frozen=True)
class MandateResult:
    mandate_url: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MandateDataRow:
    """The parts of a RetrieveMandateData row we use; the rest (names, bank details) is dropped."""

    status_code: int
    account_reference: str
    agreement_reference: str | None
    field1: str | None
    active: bool | None

    @property
    def status(self) -> MandateStatus:
        status = NETCASH_MANDATE_STATUS.get(self.status_code, MandateStatus.PENDING)
        # Column 18 is the mandate's active flag per one integrator; only an explicit "inactive" on a mandate
        # that is otherwise live reads as a cancellation, so a misread column cannot turn a decline into
        # anything else.
        if self.active is False and status in (MandateStatus.ACCEPTED, MandateStatus.PENDING):
            return MandateStatus.CANCELLED
        return status

    @property
    def key(self) -> str | None:
        return self.field1 or self.agreement_reference or None


@dataclass(frozen=True)
class MandatePostback:
    """A mandate postback as a hint: confirm it with `retrieve_mandate_statuses` before acting on it."""

    status: MandateStatus
    payment_method_id: str
    mandate_reference: str | None
    account_reference: str | None
    reason_for_decline: str | None
    delivery_id: str


# ------------------------------------------------------------------------------------------------------------
# SOAP envelope building and parsing (pure)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag.rsplit(":", 1)[-1]


def _find_child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def build_soap_envelope(method: str, params: Sequence[tuple[str, str]]) -> bytes:
    """`<s:Envelope><s:Body><Method xmlns="http://tempuri.org/"><Param>value</Param>...`, escaped."""
    ET.register_namespace("s", SOAP_ENV_NS)
    envelope = ET.Element(f"{{{SOAP_ENV_NS}}}Envelope")
    body = ET.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Body")
    call = ET.SubElement(body, f"{{{TEMPURI_NS}}}{method}")
    for name, value in params:
        ET.SubElement(call, f"{{{TEMPURI_NS}}}{name}").text = value
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)


def parse_xml(payload: bytes | str) -> ET.Element:
    """Parse a SOAP document we received. Raises ValueError when it is not XML we are willing to read.

    A DTD is refused outright: SOAP never needs one, and it is where entity-expansion attacks live.
    """
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise ValueError("document type declarations are not accepted")
    try:
        # Input is either NetCash's reply over TLS or a test client's request; the DTD guard above removes the
        # entity-expansion risk that makes defusedxml necessary, and expat never fetches external entities.
        return ET.fromstring(raw)  # noqa: S314
    except ET.ParseError as error:
        raise ValueError("not well-formed XML") from error


def parse_soap_result(payload: bytes | str, method: str) -> ET.Element:
    """The `<MethodResult>` element of a SOAP reply, whatever namespace prefixes NetCash used."""
    try:
        root = parse_xml(payload)
    except ValueError:
        raise ProviderError(f"NetCash {method} returned a reply that is not XML", provider=PROVIDER) from None
    body = _find_child(root, "Body") if _local(root.tag) == "Envelope" else None
    if body is None:
        raise ProviderError(f"NetCash {method} returned a reply without a SOAP body", provider=PROVIDER)
    if _find_child(body, "Fault") is not None:
        # The fault string can echo our input; it is not copied into the message.
        raise ProviderError(f"NetCash {method} returned a SOAP fault", provider=PROVIDER, code="soap_fault")
    response = _find_child(body, f"{method}Response")
    result = _find_child(response, f"{method}Result") if response is not None else None
    if result is None:
        raise ProviderError(f"NetCash {method} returned an unexpected reply", provider=PROVIDER)
    return result


def result_text(result: ET.Element) -> str:
    return (result.text or "").strip()


def _child_text(element: ET.Element, name: str) -> str:
    child = _find_child(element, name)
    return result_text(child) if child is not None else ""


def _string_list(element: ET.Element | None) -> list[str]:
    if element is None:
        return []
    return [(item.text or "").strip() for item in element if (item.text or "").strip()]


# ------------------------------------------------------------------------------------------------------------
# Mandate data file (RetrieveMandateData) and postbacks (pure)


def split_file_lines(text: str) -> list[str]:
    """NetCash files arrive with CR encoded as `&#xD;` (sometimes left escaped by a proxy) and CRLF or LF."""
    normalised = re.sub(r"&#x0*[dD];|&#0*13;", "\n", text)
    return [line for line in re.split(r"\r\n|\r|\n", normalised) if line.strip()]


def _parse_active_flag(value: str) -> bool | None:
    text = value.strip().lower()
    if text in {"1", "true", "y", "yes"}:
        return True
    if text in {"0", "false", "n", "no"}:
        return False
    return None


def parse_mandate_data(text: str) -> list[MandateDataRow]:
    """Rows of a mandate data file: `###BEGIN` ... tab-delimited rows ... `###END`.

    Column 0 is the status code, 1 the account reference, 15 the agreement reference, 18 the active flag and
    30 Field1. A file without both markers is incomplete and refused; rows whose status is not a number are
    skipped.
    """
    lines = split_file_lines(text)
    begin = next((i for i, line in enumerate(lines) if line.lstrip().startswith("###BEGIN")), None)
    end = next((i for i, line in enumerate(lines) if line.lstrip().startswith("###END")), None)
    if begin is None or end is None or end < begin:
        raise ProviderError("NetCash mandate data file is incomplete or malformed", provider=PROVIDER)
    rows: list[MandateDataRow] = []
    skipped = 0
    for line in lines[begin + 1 : end]:
        columns = [c.strip() for c in line.split("\t")]
        if not columns[0].isdigit() or len(columns) < 2:
            skipped += 1
            continue

        def column(index: int, cols: list[str] = columns) -> str | None:
            return (cols[index] or None) if index < len(cols) else None

        rows.append(
            MandateDataRow(
                status_code=int(columns[0]),
                account_reference=columns[1],
                agreement_reference=column(15),
                field1=column(30),
                active=_parse_active_flag(column(18) or ""),
            )
        )
    if skipped:
        logger.warning("skipped unreadable NetCash mandate data rows", extra={"skipped_rows": skipped})
    return rows


def mandate_statuses(rows: Iterable[MandateDataRow]) -> dict[str, MandateStatus]:
    """Our status per payment method id (Field1, else agreement reference); later rows win."""
    statuses: dict[str, MandateStatus] = {}
    for row in rows:
        if row.key:
            statuses[row.key] = row.status
    return statuses


def _parse_bool(form: Mapping[str, str], name: str, *, required: bool) -> bool | None:
    raw = form.get(name)
    if raw is None or not str(raw).strip():
        if required:
            raise ValidationFailed(f"mandate postback: {name} is missing", field=name)
        return None
    text = str(raw).strip().lower()
    if text in {"true", "1"}:
        return True
    if text in {"false", "0"}:
        return False
    raise ValidationFailed(f"mandate postback: {name} is not a boolean", field=name)


def _optional_text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    return (str(value).strip() or None) if value is not None else None


def parse_mandate_postback(form: Mapping[str, str]) -> MandatePostback:
    """Read NetCash's form-encoded mandate postback. It is unsigned: treat the result as a hint only.

    Outcome: MandateSuccessful → accepted; IsDeclined → declined; neither, with IsActive false → cancelled.
    Anything else (both set, neither without IsActive false, no Field1) is malformed.
    """
    successful = _parse_bool(form, "MandateSuccessful", required=True)
    declined = _parse_bool(form, "IsDeclined", required=False)
    active = _parse_bool(form, "IsActive", required=False)
    if successful and declined:
        raise ValidationFailed("mandate postback: both successful and declined", field="IsDeclined")
    if successful:
        status = MandateStatus.ACCEPTED
    elif declined:
        status = MandateStatus.DECLINED
    elif active is False:
        status = MandateStatus.CANCELLED
    else:
        raise ValidationFailed("mandate postback: carries no outcome", field="MandateSuccessful")
    payment_method_id = _optional_text(form, "Field1")
    if payment_method_id is None:
        raise ValidationFailed("mandate postback: Field1 is missing", field="Field1")
    mandate_reference = _optional_text(form, "MandateReferenceNumber")
    digest = hashlib.sha256(
        "\x1f".join(["netcash-mandate", payment_method_id, mandate_reference or "", status.value]).encode()
    ).hexdigest()
    return MandatePostback(
        status=status,
        payment_method_id=payment_method_id,
        mandate_reference=mandate_reference,
        account_reference=_optional_text(form, "AccountRef"),
        reason_for_decline=_optional_text(form, "ReasonForDecline")
        if status is MandateStatus.DECLINED
        else None,
        delivery_id=digest,
    )


def scrub(text: str, personal_values: Iterable[str] = ()) -> str:
    """Remove what NetCash might echo back: the values we sent, long digit runs and email addresses."""
    for value in sorted(personal_values, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    text = _EMAIL.sub("[redacted]", text)
    return _DIGIT_RUN.sub("[redacted]", text)


# ------------------------------------------------------------------------------------------------------------
# Interface and client


class MandateProvider(Protocol):
    def validate_bank_account(
        self, account_number: str, branch_code: str, account_type: BankAccountType | str
    ) -> None: ...

    def add_mandate(self, request: MandateRequest) -> MandateResult: ...

    def retrieve_mandate_statuses(self) -> dict[str, MandateStatus]: ...

    def parse_mandate_postback(self, form: Mapping[str, str]) -> MandatePostback: ...


@dataclass(frozen=True)
class _Service:
    path: str
    contract: str


_NIF = _Service("NIWS_NIF.svc", "INIWS_NIF")
_VALIDATION = _Service("NIWS_Validation.svc", "INIWS_Validation")


class NetcashClient:
    """Synchronous NetCash SOAP client. Build once per execution environment (it pools connections)."""

    def __init__(
        self,
        *,
        base_url: str,
        debit_order_service_key: SecretStr | str | None,
        account_service_key: SecretStr | str | None,
        timeout_seconds: float = 10.0,
        poll_attempts: int = 12,
        poll_interval_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._debit_order_key = _secret(debit_order_service_key)
        self._account_key = _secret(account_service_key)
        self._poll_attempts = max(1, poll_attempts)
        self._poll_interval_seconds = poll_interval_seconds
        self._sleep = sleep
        self._http = http_client or httpx.Client(timeout=httpx.Timeout(timeout_seconds))

    def __repr__(self) -> str:
        return f"NetcashClient(base_url={self._base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NetcashClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------------------------------------

    def validate_bank_account(
        self, account_number: str, branch_code: str, account_type: BankAccountType | str
    ) -> None:
        """CDV check of account number + branch code + type. Raises ValidationFailed naming the bad field."""
        kind = BankAccountType.parse(account_type)
        key = _require(self._account_key, "NETCASH_ACCOUNT_SERVICE_KEY")
        result = self._call(
            _VALIDATION,
            "ValidateBankAccount",
            [
                ("ServiceKey", key),
                ("AccountNumber", account_number.strip()),
                ("BranchCode", branch_code.strip()),
                ("AccountType", str(kind.netcash_code)),
            ],
        )
        code = result_text(result)
        if code == "0":
            return
        if code in _VALIDATION_RESULTS:
            field_name, message = _VALIDATION_RESULTS[code]
            raise ValidationFailed(message, field=field_name, provider_code=code)
        raise _code_error("ValidateBankAccount", code)

    def add_mandate(self, request: MandateRequest) -> MandateResult:
        """Create a mandate for signature; the customer signs at the returned NetCash URL."""
        key = _require(self._debit_order_key, "NETCASH_DEBIT_ORDER_SERVICE_KEY")
        result = self._call(_NIF, "AddMandate", add_mandate_params(key, request))
        error_code = _child_text(result, "ErrorCode")
        personal = request.personal_values()
        errors = [scrub(e, personal) for e in _string_list(_find_child(result, "Errors"))]
        warnings = [scrub(w, personal) for w in _string_list(_find_child(result, "Warnings"))]
        if error_code != "000":
            logger.warning(
                "NetCash AddMandate rejected",
                extra={"provider_code": error_code or "missing", "errors": errors, "field1": request.field1},
            )
            # NetCash's error texts stay in the (scrubbed) log: exception extras reach API problem bodies.
            raise ProviderError(
                f"NetCash AddMandate failed with error code {error_code or 'missing'}",
                provider=PROVIDER,
                code=error_code or "missing",
            )
        mandate_url = _child_text(result, "MandateUrl")
        if not mandate_url:
            raise ProviderError("NetCash AddMandate succeeded without a mandate URL", provider=PROVIDER)
        if warnings:
            logger.info("NetCash AddMandate warnings", extra={"warnings": warnings, "field1": request.field1})
        return MandateResult(mandate_url=mandate_url, warnings=warnings)

    def retrieve_mandate_statuses(self) -> dict[str, MandateStatus]:
        """Every mandate's status on the account, keyed by our payment method id; polls until ready."""
        key = _require(self._debit_order_key, "NETCASH_DEBIT_ORDER_SERVICE_KEY")
        token = result_text(self._call(_NIF, "RequestMandateData", [("ServiceKey", key)]))
        if _ERROR_RESULT.match(token) or not _FILE_TOKEN.match(token):
            raise _code_error("RequestMandateData", token)
        for attempt in range(1, self._poll_attempts + 1):
            text = result_text(
                self._call(_NIF, "RetrieveMandateData", [("ServiceKey", key), ("FileToken", token)])
            )
            if text.upper() == FILE_NOT_READY:
                if attempt < self._poll_attempts:
                    self._sleep(self._poll_interval_seconds)
                continue
            if _ERROR_RESULT.match(text):
                raise _code_error("RetrieveMandateData", text)
            statuses = mandate_statuses(parse_mandate_data(text))
            logger.info("NetCash mandate data retrieved", extra={"mandates": len(statuses), "polls": attempt})
            return statuses
        raise ProviderError(
            f"NetCash mandate data was not ready after {self._poll_attempts} polls",
            provider=PROVIDER,
            code="file_not_ready",
        )

    def parse_mandate_postback(self, form: Mapping[str, str]) -> MandatePostback:
        return parse_mandate_postback(form)

    # -- transport -------------------------------------------------------------------------------------------

    def _call(self, service: _Service, method: str, params: Sequence[tuple[str, str]]) -> ET.Element:
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{TEMPURI_NS}{service.contract}/{method}"',
        }
        started = time.monotonic()
        try:
            response = self._http.post(
                f"{self._base_url}/{service.path}",
                content=build_soap_envelope(method, params),
                headers=headers,
            )
        except httpx.TimeoutException:
            logger.warning("NetCash call timed out", extra={"soap_method": method})
            raise ProviderError(f"NetCash {method} timed out", provider=PROVIDER, code="timeout") from None
        except httpx.HTTPError:
            logger.warning("NetCash call failed to connect", extra={"soap_method": method})
            raise ProviderError(
                f"NetCash {method} could not be reached", provider=PROVIDER, code="unreachable"
            ) from None
        elapsed_ms = round((time.monotonic() - started) * 1000)
        logger.info(
            "NetCash call",
            extra={"soap_method": method, "http_status": response.status_code, "duration_ms": elapsed_ms},
        )
        if response.status_code != 200:
            raise ProviderError(
                f"NetCash {method} answered HTTP {response.status_code}",
                provider=PROVIDER,
                code="http_error",
                http_status=response.status_code,
            )
        return parse_soap_result(response.content, method)


def add_mandate_params(service_key: str, request: MandateRequest) -> list[tuple[str, str]]:
    """AddMandate parameters in WSDL order (WCF reads them in order); the ones we do not use are omitted."""
    day = request.commencement_day.strip().upper()
    return [
        ("ServiceKey", service_key),
        ("AccountReference", request.account_reference),
        ("MandateName", request.mandate_name),
        ("MandateAmount", format_money(request.mandate_amount)),
        ("IsConsumer", _xml_bool(request.is_consumer)),
        ("FirstName", request.first_name),
        ("Surname", request.surname),
        ("MobileNumber", request.mobile_number),
        ("DebitFrequency", "Monthly"),
        ("CommencementMonth", str(request.commencement_month)),
        ("CommencementDay", day if day == "LDOM" else f"{int(day):02d}"),
        ("AgreementDate", request.agreement_date.strftime("%Y%m%d")),
        ("AgreementReferenceNumber", request.agreement_reference),
        ("Field1", request.field1),
        ("BankDetailType", "1"),
        ("BankAccountName", request.bank_account_name),
        ("BankAccountNumber", request.bank_account_number.strip()),
        ("BranchCode", request.branch_code.strip()),
        ("BankAccountType", request.account_type.netcash_name),
        ("EmailAddress", request.email_address),
        ("MandateActive", "true"),
        ("IncludeDebiCheck", "false"),
        ("AddToMasterFile", "true"),
    ]


def _xml_bool(value: bool) -> str:
    return "true" if value else "false"


def _secret(value: SecretStr | str | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


def _require(key: SecretStr | None, setting: str) -> str:
    if key is None or not key.get_secret_value().strip():
        raise ConfigurationError(f"{setting} is not set; NetCash cannot be called")
    return key.get_secret_value().strip()


def _code_error(method: str, code: str) -> ProviderError:
    if code == "100":
        return ProviderError(
            f"NetCash {method} rejected the service key (code 100)", provider=PROVIDER, code="100"
        )
    if _ERROR_RESULT.match(code):
        return ProviderError(f"NetCash {method} failed with code {code}", provider=PROVIDER, code=code)
    return ProviderError(
        f"NetCash {method} returned an unexpected result", provider=PROVIDER, code="unexpected"
    )


def netcash_client_from_settings(
    settings: Settings,
    *,
    poll_attempts: int = 12,
    poll_interval_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> NetcashClient:
    """The client for this process's settings; polling knobs are for jobs and tests (files take 30-90 s)."""
    return NetcashClient(
        base_url=settings.netcash_base_url,
        debit_order_service_key=settings.netcash_debit_order_service_key,
        account_service_key=settings.netcash_account_service_key,
        timeout_seconds=settings.netcash_timeout_seconds,
        poll_attempts=poll_attempts,
        poll_interval_seconds=poll_interval_seconds,
        sleep=sleep,
    )
