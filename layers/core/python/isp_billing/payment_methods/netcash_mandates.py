"""NetCash's mandate postback: authenticate by the URL's secret, confirm with NetCash, apply once.

NetCash signs nothing (providers-netcash.md §7), so:
1. the webhook URL carries a long random secret (NETCASH_WEBHOOK_SECRET), compared in constant time;
2. the postback is only a hint: the status applied is the one RetrieveMandateData reports;
3. only mandates we created count: Field1 must be the id of a debit order whose mandate reference is that id;
4. the confirmed status is applied by `mandate_status.apply_confirmed`, shared with the polling jobs;
5. each delivery is recorded in webhook_deliveries, insert-first in the transaction of the change, so a
   redelivery has no second effect; but only when its outcome is final (NetCash's file shows the postback's
   outcome, or a status nothing can leave): a postback ahead of the file is answered 503 and not recorded,
   so its redelivery is processed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from isp_billing import db
from isp_billing.errors import ConfigurationError, DomainError, ProviderError, Unauthenticated
from isp_billing.observability import logger
from isp_billing.payment_methods import mandate_status
from isp_billing.payment_methods import sql as payment_methods
from isp_billing.payment_methods.models import MandateWebhookReceipt
from isp_billing.providers.netcash import MandatePostback, MandateProvider, MandateStatus
from isp_billing.settings import get_settings
from isp_billing.webhooks import deliveries_sql as webhook_deliveries

DELIVERY_PROVIDER = "netcash_mandate"
# Statuses no later NetCash outcome can move a mandate out of: a postback that finds one is answered for good.
FINAL_STATUSES = frozenset({"declined", "cancelled", "expired"})


class MandateNotConfirmedYet(DomainError):
    """NetCash's mandate file is not ready, or does not show the outcome yet: deliver again later."""

    status = 503
    title = "Not confirmed yet"
    type_slug = "mandate-not-confirmed"


@dataclass(frozen=True)
class _Decision:
    method_id: UUID
    customer_id: UUID
    confirmed: MandateStatus


def check_token(token: str | None) -> None:
    secret = get_settings().netcash_webhook_secret
    if secret is None:
        raise ConfigurationError(
            "NETCASH_WEBHOOK_SECRET is not set; the mandate webhook cannot be authenticated"
        )
    if not token or not hmac.compare_digest(token.encode(), secret.get_secret_value().encode()):
        raise Unauthenticated("The webhook token is missing or wrong.")


def handle_postback(
    form: Mapping[str, str], token: str | None, provider: MandateProvider
) -> MandateWebhookReceipt:
    check_token(token)
    postback = provider.parse_mandate_postback(form)
    log = {"delivery_id": postback.delivery_id, "hinted_status": postback.status.value}
    method_id = _uuid(postback.payment_method_id)
    if method_id is None:
        logger.warning("mandate postback for a reference we did not create", extra=log)
        return MandateWebhookReceipt(outcome="ignored")
    with db.service_session() as conn:
        if webhook_deliveries.seen(conn, DELIVERY_PROVIDER, postback.delivery_id):
            logger.info("mandate postback redelivered", extra=log)
            return MandateWebhookReceipt(outcome="duplicate")
        method = payment_methods.find_created_mandate(conn, method_id)
    if method is None:
        logger.warning("mandate postback for a reference we did not create", extra=log)
        return MandateWebhookReceipt(outcome="ignored")
    log.update(payment_method_id=str(method_id), customer_id=str(method["customer_id"]))
    decision = _Decision(method_id, method["customer_id"], _confirmed_status(provider, method_id, log))
    return _apply(decision, postback, form, log)


def _confirmed_status(provider: MandateProvider, method_id: UUID, log: dict[str, Any]) -> MandateStatus:
    try:
        statuses = provider.retrieve_mandate_statuses()
    except ProviderError as error:
        if error.extra.get("code") == "file_not_ready":
            logger.info("NetCash mandate file not ready; asking for redelivery", extra=log)
            raise MandateNotConfirmedYet(
                "NetCash's mandate data is not ready yet; deliver this postback again later."
            ) from None
        raise
    confirmed = statuses.get(str(method_id))
    if confirmed is None or confirmed is MandateStatus.PENDING:
        logger.info("mandate outcome not confirmed by NetCash yet", extra=log)
        raise MandateNotConfirmedYet(
            "NetCash does not confirm this mandate's outcome yet; deliver it again later."
        )
    return confirmed


def _apply(
    decision: _Decision, postback: MandatePostback, form: Mapping[str, str], log: dict[str, Any]
) -> MandateWebhookReceipt:
    payload_hash = hashlib.sha256(json.dumps(dict(form), sort_keys=True).encode()).hexdigest()
    log["confirmed_status"] = decision.confirmed.value
    with db.service_session() as conn:
        if not webhook_deliveries.record(conn, DELIVERY_PROVIDER, postback.delivery_id, payload_hash):
            logger.info("mandate postback redelivered", extra=log)
            return MandateWebhookReceipt(outcome="duplicate")
        # A request that died after AddMandate left the row requesting: NetCash knows it, so adopt it.
        payment_methods.adopt_requested(conn, [decision.method_id])
        [change] = mandate_status.apply_confirmed(
            conn, {decision.method_id: decision.confirmed}, source="postback"
        )  # mandates are never deleted, so the one found above is there
        outcome = "ignored" if change.outcome == "refused" else change.outcome
        current = change.previous_status
        final = (
            decision.confirmed is postback.status
            or decision.confirmed.value in FINAL_STATUSES
            or change.outcome == "refused"
        )
        if final:
            webhook_deliveries.set_outcome(conn, DELIVERY_PROVIDER, postback.delivery_id, outcome)
        else:
            # NetCash's file does not show this postback's outcome yet: whatever it confirmed is applied, but
            # the delivery is not recorded, so its redelivery is processed rather than answered `duplicate`.
            webhook_deliveries.forget(conn, DELIVERY_PROVIDER, postback.delivery_id)
    if not final:
        logger.info(
            "mandate postback ahead of NetCash's file; asking for redelivery",
            extra={**log, "outcome": outcome, "previous_status": current},
        )
        raise MandateNotConfirmedYet(
            "NetCash does not confirm this mandate's outcome yet; deliver it again later."
        )
    level = logger.warning if outcome == "ignored" else logger.info
    level("mandate postback handled", extra={**log, "outcome": outcome, "previous_status": current})
    return MandateWebhookReceipt(outcome=outcome)  # type: ignore[arg-type]


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None
