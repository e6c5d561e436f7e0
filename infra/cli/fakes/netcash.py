"""A fake NetCash NIWS server: SOAP 1.1 at `/NIWS/NIWS_NIF.svc` and `/NIWS/NIWS_Validation.svc`.

Point the client at `fake.url + "/NIWS"`. Dispatch is on the SOAP body element name; any SOAPAction is
accepted. Service keys are per service: `debit_order_service_key` for NIF methods, `account_service_key` for
validation; any other key gets `100` (or ErrorCode `100` for AddMandate).

Methods:

- `ValidateBankAccount(ServiceKey, AccountNumber, BranchCode, AccountType)`, rule table, first match wins:
  `100` wrong key; `4` any field blank or the account number not all digits; `1` branch code not exactly 6
  digits; `3` account type not 1, 2 or 3; `2` account number ends in `0000` (stands in for a failed check
  digit); otherwise `0`.
- `AddMandate(...)`: `102` with Errors when a required parameter (AccountReference, MandateName,
  MandateAmount, Field1, BankAccountNumber, BranchCode, BankAccountType as Current/Savings/Transmission,
  IncludeDebiCheck) is missing or bad; otherwise ErrorCode `000` and MandateUrl
  `http://<fake>/mandate/<token>`. The mandate is recorded under Field1 with NetCash status 2 (awaiting
  authorisation). `GET /mandate/<token>` serves the signing page: the mandate's terms and Sign / Decline
  buttons, a form POSTing to the same URL, which calls `sign_mandate(field1, outcome)` (so the postback
  reaches `postback_url`, the local API's webhook under `serve --demo`).
- `RequestMandateData(ServiceKey)` returns a file token; `RetrieveMandateData(ServiceKey, FileToken)` answers
  `FILE NOT READY` for the first `not_ready_polls` polls of that token (default 1), then the file:
  `###BEGIN\\t<CCYYMMDD>`, one 41-column tab-delimited row per mandate (0 status, 1 account reference,
  2 mandate name, 3 amount, 14 agreement date, 15 agreement reference, 18 active flag 1/0, 30 Field1),
  `###END`, CRLF line ends sent as `&#xD;` the way WCF encodes them. Unknown token → `102`.

Debit-order batches, load reports, authorisation and the daily statement: `fake.debit_orders`
(netcash_batches.py).

Test hooks (besides `requests`, `fail_next`, `reset_faults` from the package):

- `sign_mandate(field1, outcome="accepted"|"declined"|"cancelled", post=None)`: moves the mandate to 6, 5, or
  inactive, and returns the form-encoded postback fields; posts them to `postback_url` when set (or
  `post=True`).
- `expire_mandate(field1)`: status 3. `mandates`: Field1 → FakeMandate.
- `fail_next(kind)` with kinds `http_500`, `timeout` (option `seconds`, default 1.0), `malformed` (non-XML
  body), `error_code` (option `code`, default "200": ErrorCode for AddMandate, the bare result otherwise).

`requests` keeps every call's parameters, the bank account number included, so tests can assert it was sent;
the record's repr masks it and the service key, so a failing assertion does not print them.
"""

from __future__ import annotations

import html
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal, cast
from urllib.parse import parse_qs
from xml.etree import ElementTree as ET

import httpx

from isp_billing_cli.fakes import FakeRequestHandler, FakeServer
from isp_billing_cli.fakes.netcash_batches import FakeDebitOrders

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI_NS = "http://tempuri.org/"
DATACONTRACT_NS = "http://schemas.datacontract.org/2004/07/NC.DG.TMS.C.WCF.NIWS"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
INSTANCE_NS = "http://www.w3.org/2001/XMLSchema-instance"
DEFAULT_DEBIT_ORDER_KEY = "00000000-fake-debit-order-key-000000000000"
DEFAULT_ACCOUNT_KEY = "00000000-fake-account-service-key-0000000000"
ACCOUNT_TYPE_NAMES = {"Current", "Savings", "Transmission"}
MANDATE_DATA_COLUMNS = 41
_SECRET_PARAMS = {"ServiceKey", "BankAccountNumber", "AccountNumber"}

Outcome = Literal["accepted", "declined", "cancelled"]


@dataclass
class SoapCall:
    service: str
    method: str
    params: dict[str, str]
    soap_action: str | None

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k in _SECRET_PARAMS else v) for k, v in self.params.items()}
        return f"SoapCall(service={self.service!r}, method={self.method!r}, params={shown!r})"


@dataclass
class FakeMandate:
    field1: str
    account_reference: str
    agreement_reference: str
    mandate_name: str
    amount: str
    agreement_date: str
    commencement_month: str
    commencement_day: str
    token: str
    mandate_reference: str
    account_number_masked: str
    branch_code: str
    account_type: str
    status_code: int = 2
    active: bool = True


@dataclass
class _MandateFile:
    polls: int = 0


@dataclass
class SentPostback:
    url: str
    fields: dict[str, str]
    status_code: int | None
    error: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class FakeNetcash(FakeServer):
    fault_kinds = frozenset({"http_500", "timeout", "malformed", "error_code"})

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        debit_order_service_key: str = DEFAULT_DEBIT_ORDER_KEY,
        account_service_key: str = DEFAULT_ACCOUNT_KEY,
        postback_url: str | None = None,
        not_ready_polls: int = 1,
    ) -> None:
        self.handler_class = _NetcashHandler
        super().__init__(host, port)
        self.debit_order_service_key = debit_order_service_key
        self.account_service_key = account_service_key
        self.postback_url = postback_url
        self.not_ready_polls = not_ready_polls
        self._mandates: dict[str, FakeMandate] = {}
        self._files: dict[str, _MandateFile] = {}
        self._sequence = 0
        self.postbacks_sent: list[SentPostback] = []
        self._state_lock = threading.RLock()
        # Debit-order batches and the statement (netcash_batches.py).
        self.debit_orders = FakeDebitOrders(debit_order_service_key, account_service_key, not_ready_polls)

    # -- hooks -----------------------------------------------------------------------------------------------

    @property
    def mandates(self) -> dict[str, FakeMandate]:
        with self._state_lock:
            return {k: replace(v) for k, v in self._mandates.items()}

    def sign_mandate(
        self, field1: str, outcome: Outcome = "accepted", *, post: bool | None = None
    ) -> dict[str, str]:
        """The customer acts on the mandate page: move its status and return (and maybe post) the postback."""
        with self._state_lock:
            mandate = self._mandates[field1]
            if outcome == "accepted":
                mandate.status_code, mandate.active = 6, True
            elif outcome == "declined":
                mandate.status_code, mandate.active = 5, False
            elif outcome == "cancelled":
                mandate.active = False
            else:
                raise ValueError(f"unknown outcome {outcome!r}")
            fields = {
                "MandateSuccessful": "1" if outcome == "accepted" else "0",
                "IsDeclined": "1" if outcome == "declined" else "0",
                "ReasonForDecline": "Declined by account holder" if outcome == "declined" else "",
                "IsActive": "True" if mandate.active else "False",
                "IsValid": "True",
                "IsFromWebService": "True",
                "AccountRef": mandate.account_reference,
                "AccountName": mandate.mandate_name,
                "DefaultAmount": mandate.amount,
                "AgreementDate": mandate.agreement_date,
                "MandateReferenceNumber": mandate.mandate_reference,
                "Field1": mandate.field1,
                "BankAccountNo": mandate.account_number_masked,
                "BranchCode": mandate.branch_code,
                "BankAccountType": mandate.account_type,
                "IsCreditCard": "False",
            }
        should_post = post if post is not None else self.postback_url is not None
        if should_post:
            self._post(fields)
        return fields

    def mandate_by_token(self, token: str) -> FakeMandate | None:
        with self._state_lock:
            found = next((m for m in self._mandates.values() if m.token == token), None)
            return replace(found) if found else None

    def expire_mandate(self, field1: str) -> None:
        with self._state_lock:
            self._mandates[field1].status_code = 3

    def _post(self, fields: dict[str, str]) -> None:
        if not self.postback_url:
            raise ValueError("no postback_url configured")
        try:
            response = httpx.post(self.postback_url, data=fields, timeout=5.0)
            self.postbacks_sent.append(SentPostback(self.postback_url, fields, response.status_code))
        except httpx.HTTPError as error:
            self.postbacks_sent.append(SentPostback(self.postback_url, fields, None, type(error).__name__))

    # -- SOAP methods ----------------------------------------------------------------------------------------

    def handle_soap(self, service: str, method: str, params: dict[str, str]) -> tuple[int, bytes]:
        handlers = {
            ("NIWS_Validation.svc", "ValidateBankAccount"): self._validate_bank_account,
            ("NIWS_NIF.svc", "AddMandate"): self._add_mandate,
            ("NIWS_NIF.svc", "RequestMandateData"): self._request_mandate_data,
            ("NIWS_NIF.svc", "RetrieveMandateData"): self._retrieve_mandate_data,
        }
        handler = handlers.get((service, method))
        if handler is None and service == "NIWS_NIF.svc":
            batch_result = self.debit_orders.handle(method, params)
            if batch_result is not None:
                return 200, string_result(method, batch_result)
        if handler is None:
            return 500, soap_fault("a:ActionNotSupported", f"The operation {method} is not supported")
        return 200, handler(params)

    def _validate_bank_account(self, params: dict[str, str]) -> bytes:
        if params.get("ServiceKey") != self.account_service_key:
            return string_result("ValidateBankAccount", "100")
        account = params.get("AccountNumber", "").strip()
        branch = params.get("BranchCode", "").strip()
        kind = params.get("AccountType", "").strip()
        if not account or not branch or not kind or not account.isdigit():
            code = "4"
        elif not (branch.isdigit() and len(branch) == 6):
            code = "1"
        elif kind not in {"1", "2", "3"}:
            code = "3"
        elif account.endswith("0000"):
            code = "2"
        else:
            code = "0"
        return string_result("ValidateBankAccount", code)

    def _add_mandate(self, params: dict[str, str]) -> bytes:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return add_mandate_result("100", errors=["Authentication failed"])
        errors = [
            f"{name} is required"
            for name in (
                "AccountReference",
                "MandateName",
                "MandateAmount",
                "Field1",
                "BankAccountNumber",
                "BranchCode",
                "BankAccountType",
                "IncludeDebiCheck",
            )
            if not params.get(name, "").strip()
        ]
        try:
            if Decimal(params.get("MandateAmount", "")) <= 0:
                errors.append("MandateAmount must be greater than zero")
        except InvalidOperation:
            errors.append("MandateAmount is not a decimal")
        if params.get("BankAccountType") and params["BankAccountType"] not in ACCOUNT_TYPE_NAMES:
            errors.append("BankAccountType is not valid")
        if errors:
            return add_mandate_result("102", errors=errors)
        account_number = params["BankAccountNumber"].strip()
        with self._state_lock:
            self._sequence += 1
            token = secrets.token_urlsafe(12)
            self._mandates[params["Field1"]] = FakeMandate(
                field1=params["Field1"],
                account_reference=params["AccountReference"],
                agreement_reference=params.get("AgreementReferenceNumber", ""),
                mandate_name=params["MandateName"],
                amount=params["MandateAmount"],
                agreement_date=params.get("AgreementDate", ""),
                commencement_month=params.get("CommencementMonth", ""),
                commencement_day=params.get("CommencementDay", ""),
                token=token,
                mandate_reference=f"FAKE{self._sequence:08d}",
                account_number_masked=account_number[:3]
                + "*" * max(0, len(account_number) - 4)
                + account_number[-1:],
                branch_code=params["BranchCode"],
                account_type=params["BankAccountType"],
            )
        return add_mandate_result("000", mandate_url=f"{self.url}/mandate/{token}")

    def _request_mandate_data(self, params: dict[str, str]) -> bytes:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return string_result("RequestMandateData", "100")
        with self._state_lock:
            self._sequence += 1
            token = f"{date.today():%Y%m%d}.{self._sequence:010d}.0001.2.2"
            self._files[token] = _MandateFile()
        return string_result("RequestMandateData", token)

    def _retrieve_mandate_data(self, params: dict[str, str]) -> bytes:
        if params.get("ServiceKey") != self.debit_order_service_key:
            return string_result("RetrieveMandateData", "100")
        with self._state_lock:
            file = self._files.get(params.get("FileToken", ""))
            if file is None:
                return string_result("RetrieveMandateData", "102")
            file.polls += 1
            if file.polls <= self.not_ready_polls:
                return string_result("RetrieveMandateData", "FILE NOT READY")
            lines = [f"###BEGIN\t{date.today():%Y%m%d}"]
            for mandate in self._mandates.values():
                columns = [""] * MANDATE_DATA_COLUMNS
                columns[0] = str(mandate.status_code)
                columns[1] = mandate.account_reference
                columns[2] = mandate.mandate_name
                columns[3] = mandate.amount
                columns[11] = "1"
                columns[12] = mandate.commencement_month
                columns[13] = mandate.commencement_day
                columns[14] = mandate.agreement_date
                columns[15] = mandate.agreement_reference
                columns[16] = "0"
                columns[17] = "0"
                columns[18] = "1" if mandate.active else "0"
                columns[30] = mandate.field1
                lines.append("\t".join(columns))
            lines.append("###END")
        return string_result("RetrieveMandateData", "\r\n".join(lines) + "\r\n")

    def fault_body(self, method: str, fault_code: str) -> bytes:
        if method == "AddMandate":
            return add_mandate_result(fault_code, errors=["General code exception"])
        return string_result(method, fault_code)


# -- XML helpers -------------------------------------------------------------------------------------------


def _envelope(content: ET.Element) -> bytes:
    envelope = ET.Element(f"{{{SOAP_ENV_NS}}}Envelope")
    ET.SubElement(envelope, f"{{{SOAP_ENV_NS}}}Body").append(content)
    ET.register_namespace("s", SOAP_ENV_NS)
    ET.register_namespace("a", DATACONTRACT_NS)
    ET.register_namespace("b", ARRAYS_NS)
    ET.register_namespace("i", INSTANCE_NS)
    text = ET.tostring(envelope, encoding="unicode")
    # WCF writes carriage returns as character references; an XML parser would otherwise fold CRLF to LF.
    return text.replace("\r", "&#xD;").encode("utf-8")


def string_result(method: str, value: str) -> bytes:
    response = ET.Element(f"{{{TEMPURI_NS}}}{method}Response")
    ET.SubElement(response, f"{{{TEMPURI_NS}}}{method}Result").text = value
    return _envelope(response)


def add_mandate_result(
    error_code: str,
    *,
    mandate_url: str | None = None,
    errors: list[str] | None = None,
    warnings: list[str] | None = None,
) -> bytes:
    response = ET.Element(f"{{{TEMPURI_NS}}}AddMandateResponse")
    result = ET.SubElement(response, f"{{{TEMPURI_NS}}}AddMandateResult")
    ET.SubElement(result, f"{{{DATACONTRACT_NS}}}ErrorCode").text = error_code
    errors_element = ET.SubElement(result, f"{{{DATACONTRACT_NS}}}Errors")
    for message in errors or []:
        ET.SubElement(errors_element, f"{{{ARRAYS_NS}}}string").text = message
    url_element = ET.SubElement(result, f"{{{DATACONTRACT_NS}}}MandateUrl")
    if mandate_url is None:
        url_element.set(f"{{{INSTANCE_NS}}}nil", "true")
    else:
        url_element.text = mandate_url
    warnings_element = ET.SubElement(result, f"{{{DATACONTRACT_NS}}}Warnings")
    for message in warnings or []:
        ET.SubElement(warnings_element, f"{{{ARRAYS_NS}}}string").text = message
    return _envelope(response)


def soap_fault(code: str, message: str) -> bytes:
    fault = ET.Element(f"{{{SOAP_ENV_NS}}}Fault")
    ET.SubElement(fault, "faultcode").text = code
    ET.SubElement(fault, "faultstring").text = message
    return _envelope(fault)


def parse_request(body: bytes) -> tuple[str, dict[str, str]] | None:
    """(method, params) from a SOAP request, namespace-prefix agnostic; None if it is not one."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None
    try:
        # Local test server; DTDs are refused above, which is the defusedxml concern.
        root = ET.fromstring(body)  # noqa: S314
    except ET.ParseError:
        return None
    body_element = next((child for child in root if _local(child.tag) == "Body"), None)
    if _local(root.tag) != "Envelope" or body_element is None or len(body_element) == 0:
        return None
    call = body_element[0]
    return _local(call.tag), {_local(child.tag): (child.text or "") for child in call}


def mandate_page(mandate: FakeMandate | None, message: str | None = None) -> bytes:
    """The customer's signing page: the mandate's terms and Sign / Decline buttons posting back to itself."""
    if mandate is None:
        body = "<h1>Fake NetCash</h1><p>No such mandate.</p>"
    else:
        status = {6: "signed", 5: "declined", 3: "expired"}.get(
            mandate.status_code, "awaiting your signature"
        )
        if not mandate.active and mandate.status_code != 5:
            status = "cancelled"
        body = (
            "<h1>Fake NetCash debit order mandate</h1>"
            f"<p>Account reference <b>{html.escape(mandate.account_reference)}</b>, "
            f"up to <b>R{html.escape(mandate.amount)}</b> a month, "
            f"from the account {html.escape(mandate.account_number_masked)}.</p>"
            f"<p>Status: <b id='status'>{status}</b></p>"
        )
        if message:
            body += f"<p id='message'>{html.escape(message)}</p>"
        if mandate.status_code not in (6, 5, 3) and mandate.active:
            body += (
                "<form method='post'>"
                "<button type='submit' name='outcome' value='accepted'>Sign</button> "
                "<button type='submit' name='outcome' value='declined'>Decline</button>"
                "</form>"
            )
    page = f"<!doctype html><html><head><title>Fake NetCash mandate</title></head><body>{body}</body></html>"
    return page.encode("utf-8")


class _NetcashHandler(FakeRequestHandler):
    def do_GET(self) -> None:
        fake: FakeNetcash = self.fake
        path = self.path.split("?", 1)[0]
        if path.startswith("/mandate/"):
            mandate = fake.mandate_by_token(path.removeprefix("/mandate/"))
            self.send(200 if mandate else 404, mandate_page(mandate), "text/html; charset=utf-8")
            return
        self.send(404, b"not found", "text/plain")

    def _sign_from_page(self, token: str) -> None:
        """The page's form: sign or decline, then post the postback to the configured URL (the local API)."""
        fake: FakeNetcash = self.fake
        outcome = parse_qs(self.read_body().decode("utf-8", "replace")).get("outcome", [""])[0]
        mandate = fake.mandate_by_token(token)
        if mandate is None or outcome not in ("accepted", "declined"):
            self.send(404 if mandate is None else 400, mandate_page(mandate), "text/html; charset=utf-8")
            return
        fake.sign_mandate(mandate.field1, cast(Outcome, outcome))
        sent = fake.postbacks_sent[-1] if fake.postback_url and fake.postbacks_sent else None
        message = "Thank you." + (
            f" NetCash notified the merchant (HTTP {sent.status_code or sent.error})." if sent else ""
        )
        self.send(200, mandate_page(fake.mandate_by_token(token), message), "text/html; charset=utf-8")

    def do_POST(self) -> None:
        fake: FakeNetcash = self.fake
        if self.path.startswith("/mandate/"):
            self._sign_from_page(self.path.split("?", 1)[0].removeprefix("/mandate/"))
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        service = {
            "/niws/niws_nif.svc": "NIWS_NIF.svc",
            "/niws/niws_validation.svc": "NIWS_Validation.svc",
        }.get(path.lower())
        body = self.read_body()
        if service is None:
            self.send(404, b"not found", "text/plain")
            return
        parsed = parse_request(body)
        if parsed is None:
            self.send(400, soap_fault("s:Client", "Bad request"), "text/xml; charset=utf-8")
            return
        method, params = parsed
        fake.record(SoapCall(service, method, params, self.headers.get("SOAPAction")))
        fault = fake.take_fault()
        if fault is not None:
            if fault.kind == "http_500":
                self.send(500, soap_fault("s:Server", "Internal error"), "text/xml; charset=utf-8")
                return
            if fault.kind == "timeout":
                fake.wait_out_client(fault)
                self.send(200, string_result(method, "0"), "text/xml; charset=utf-8")
                return
            if fault.kind == "malformed":
                self.send(200, b"<html><body>Service Unavailable", "text/html")
                return
            if fault.kind == "error_code":
                self.send(200, fake.fault_body(method, str(fault.options.get("code", "200"))), "text/xml")
                return
        status, reply = fake.handle_soap(service, method, params)
        self.send(status, reply, "text/xml; charset=utf-8")


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    debit_order_service_key: str = DEFAULT_DEBIT_ORDER_KEY,
    account_service_key: str = DEFAULT_ACCOUNT_KEY,
    postback_url: str | None = None,
    not_ready_polls: int = 1,
) -> FakeNetcash:
    """Start a fake NetCash on a daemon thread; `stop()` it when done."""
    return FakeNetcash(
        host,
        port,
        debit_order_service_key=debit_order_service_key,
        account_service_key=account_service_key,
        postback_url=postback_url,
        not_ready_polls=not_ready_polls,
    ).start()
