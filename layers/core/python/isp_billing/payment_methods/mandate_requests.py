"""A debit order's eMandate request at NetCash, made so that no AddMandate outcome can be forgotten.

Everything is validated first (the body model, the mandate amount, NetCash's bank account check, the
request NetCash will get). Then, on a connection of its own, the payment method is committed as it will be,
in state `requesting` (inactive: not listed, not collectable, not primary), with the reference NetCash will
echo back (mandate_reference = Field1 = AgreementReference = the method's id). Only then is AddMandate called:

- created: the same side connection makes it `pending` with its signing URL, active, primary if the customer
  has no primary, and the customer's transaction answers 201 with it;
- refused (NetCash answered an error code): the row becomes `failed` (kept, inactive), 502;
- no readable answer (timeout, connection lost, HTTP error): the row stays `requesting`, 502;
- the process dies, or the transaction after the call fails: the row stays `requesting`.

sync-mandate-statuses settles every `requesting` row: one NetCash's mandate file knows is adopted (pending,
then whatever NetCash says), one it does not know after REQUEST_GRACE becomes `failed`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing import side_connection
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict, NotFound, ProviderError
from isp_billing.observability import logger
from isp_billing.payment_methods import sql as repository
from isp_billing.payment_methods.models import DebitOrderCreate
from isp_billing.providers.netcash import (
    BankAccountType,
    MandateProvider,
    MandateRequest,
    mask_account_number,
)

# After this long, a requesting row NetCash's mandate file does not know was never created at NetCash.
REQUEST_GRACE = timedelta(minutes=15)


def _certainly_refused(code: object) -> bool:
    """NetCash answered with its own error code (AddMandate's ErrorCode, e.g. 102) or a SOAP fault: no
    mandate exists. Anything else (timeout, connection lost, HTTP error, an unreadable answer) may have
    created one."""
    return isinstance(code, str) and (code.isdigit() or code == "soap_fault")


def request(
    conn: Connection, customer_id: UUID, method_id: UUID, body: DebitOrderCreate, provider: MandateProvider
) -> dict[str, Any]:
    """Validate, commit the requesting row, call AddMandate, apply its answer; the row as stored."""
    context = repository.mandate_context(conn, customer_id)
    if context is None:
        raise NotFound("No such customer.")
    amount = Decimal(context["monthly_total"])
    if amount <= 0:
        raise Conflict(
            "A debit order needs a mandate amount, and you have no active or pending services to pay for "
            "yet. Add a debit order once a service is ordered.",
            reason="no_billable_services",
        )
    account_number = body.account_number.get_secret_value()
    provider.validate_bank_account(account_number, body.branch_code, body.account_type)
    mandate = _mandate_request(context, method_id, body, amount)
    values = {
        "id": method_id,
        "customer_id": customer_id,
        "method_type": "debit_order",
        "display_name": body.display_name,
        "bank_name": body.bank_name,
        "branch_code": body.branch_code,
        "account_type": body.account_type,
        "account_number_masked": mask_account_number(account_number),
        "account_holder": body.account_holder,
        "mandate_reference": str(method_id),
        "mandate_amount": amount,
    }
    log = {"customer_id": str(customer_id), "payment_method_id": str(method_id)}
    with side_connection.opened() as side:
        with side_connection.service_transaction(side):
            repository.insert_requesting(side, values)
        try:
            result = provider.add_mandate(mandate)
        except ProviderError as error:
            code = error.extra.get("code")
            if _certainly_refused(code):
                with side_connection.service_transaction(side):
                    repository.fail_requested(side, method_id)
                logger.warning("NetCash AddMandate refused; request failed", extra={**log, "code": code})
            else:
                logger.warning(
                    "NetCash AddMandate outcome unknown; left requesting", extra={**log, "code": code}
                )
            raise
        with side_connection.service_transaction(side):
            row = repository.settle_requested(side, method_id, result.mandate_url)
    if row is None:  # settled as failed meanwhile: only after REQUEST_GRACE, far beyond a request's life
        raise ProviderError(
            "The mandate request expired before NetCash's answer was stored.", provider="netcash"
        )
    logger.info("NetCash mandate requested", extra={**log, "warnings": len(result.warnings)})
    return row


def _mandate_request(
    context: dict[str, Any], method_id: UUID, body: DebitOrderCreate, amount: Decimal
) -> MandateRequest:
    today = sast_today()
    debit_day = context["debit_day"] or context["billing_day"] or 1
    first_debit = today.replace(day=1) + timedelta(days=32) if debit_day <= today.day else today
    return MandateRequest(
        account_reference=context["account_number"],
        mandate_name=body.account_holder,
        mandate_amount=amount,
        first_name=context["first_name"],
        surname=context["last_name"],
        mobile_number=_local_mobile(context["phone"]),
        email_address=context["email"],
        bank_account_name=body.account_holder,
        bank_account_number=body.account_number.get_secret_value(),
        branch_code=body.branch_code,
        account_type=BankAccountType.parse(body.account_type),
        agreement_date=today,
        agreement_reference=str(method_id),
        field1=str(method_id),
        commencement_month=first_debit.month,
        commencement_day=f"{min(debit_day, 31):02d}",
        is_consumer=context["customer_type"] != "business",
    )


def _local_mobile(phone: str | None) -> str:
    """NetCash wants a 10-digit South African mobile number (0825551234); E.164 +27... is converted."""
    if phone and phone.startswith("+27") and len(phone) == 12:
        return "0" + phone[3:]
    return ""
