"""The two usage webhooks.

1. `POST /api/webhooks/interstellio/usage`: our own signed batch format (Interstellio pushes no usage; this
   suits a relay, another RADIUS source or a manual upload). `X-Usage-Timestamp` is Unix seconds and
   `X-Usage-Signature` is `v1=` + hex HMAC-SHA256 over `<timestamp>.<raw body>` with USAGE_WEBHOOK_SECRET.
   The signature is checked over the raw bytes before the body is parsed; a missing or wrong signature, or
   a timestamp more than USAGE_WEBHOOK_TOLERANCE_SECONDS (5 minutes) from now, is 401 and writes nothing.
   The delivery is recorded under its signature in `webhook_deliveries` in the same transaction as its
   rows, so a replay (within the window) changes nothing, even after newer figures arrived.
2. `POST /api/webhooks/interstellio/usage-meter?token=…`: Interstellio's `subscriber-usage-meter-triggered`
   (once a month per subscriber when the monthly combined KB reaches the meter's trigger). Interstellio signs
   nothing, so the URL carries INTERSTELLIO_WEBHOOK_TOKEN. It is recorded once per service and month, and
   its reading feeds the cap alerts of the current period.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from isp_billing import db
from isp_billing.clock import sast_today
from isp_billing.errors import ConfigurationError, DomainError, Unauthenticated, ValidationFailed
from isp_billing.providers.interstellio import MB_QUANTUM, kb_to_mb
from isp_billing.settings import get_settings
from isp_billing.usage import sql as usage
from isp_billing.usage.ingest import queue_cap_alerts, write_usage
from isp_billing.usage.models import MeterWebhookReceipt, UsagePushBatch, UsagePushReceipt
from isp_billing.usage.sql import UsageRow
from isp_billing.webhooks import deliveries_sql as webhook_deliveries

PUSH_PROVIDER = "usage_push"
SIGNATURE_PREFIX = "v1="


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Usage-Signature` value for a body sent at `timestamp` (senders and tests use this too)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def _verify(headers: Mapping[str, str], body: bytes) -> str:
    secret = get_settings().usage_webhook_secret
    if secret is None:
        raise ConfigurationError("USAGE_WEBHOOK_SECRET is not set")
    timestamp = headers.get("x-usage-timestamp") or ""
    signature = headers.get("x-usage-signature") or ""
    if not timestamp.isdigit() or not signature:
        raise Unauthenticated("The request is not signed (X-Usage-Timestamp, X-Usage-Signature).")
    if abs(time.time() - int(timestamp)) > get_settings().usage_webhook_tolerance_seconds:
        raise Unauthenticated("The signature's timestamp is outside the allowed window.")
    expected = sign(secret.get_secret_value(), timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise Unauthenticated("The signature does not match.")
    return expected


def _batch(body: bytes) -> UsagePushBatch:
    try:
        return UsagePushBatch.model_validate_json(body)
    except ValidationError as error:
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            raise DomainError("The body is not valid JSON (UTF-8).") from None  # 400, as elsewhere
        problems = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
            for item in error.errors()
        ]
        raise ValidationFailed("The usage batch is not valid.", errors=problems) from None


def _megabytes(value: Decimal, unit: str) -> Decimal:
    return kb_to_mb(value) if unit == "KB" else value.quantize(MB_QUANTUM)


def receive_push(headers: Mapping[str, str], body: bytes) -> UsagePushReceipt:
    signature = _verify({k.lower(): v for k, v in headers.items()}, body)
    batch = _batch(body)
    today = sast_today()
    keys = [(record.subscriber_id, record.usage_date) for record in batch.records]
    if len(set(keys)) != len(keys):
        raise ValidationFailed("A subscriber's day appears twice in the batch.", field="records")
    if any(day > today for _, day in keys):
        raise ValidationFailed("usage_date: must not be in the future.", field="records")
    with db.service_session() as conn:
        if not webhook_deliveries.record(conn, PUSH_PROVIDER, signature, hashlib.sha256(body).hexdigest()):
            return UsagePushReceipt(
                status="duplicate", rows_written=0, unknown_subscribers=0, cap_alerts_queued=0
            )
        services = usage.services_by_subscriber(conn, (record.subscriber_id for record in batch.records))
        rows: list[UsageRow] = []
        unknown: set[str] = set()
        for record in batch.records:
            service = services.get(record.subscriber_id)
            if service is None:
                unknown.add(record.subscriber_id)
                continue
            rows.append(
                (
                    service["id"],
                    record.usage_date,
                    _megabytes(record.upload, batch.unit),
                    _megabytes(record.download, batch.unit),
                )
            )
        problems = [
            {
                "record_ref": subscriber,
                "error_code": "unknown_subscriber",
                "message": "A pushed usage record names a subscriber no service is linked to.",
                "suggested_fix": "Link the subscriber id to its service, then push the days again.",
                "payload": {"source": PUSH_PROVIDER},
            }
            for subscriber in sorted(unknown)
        ]
        result = write_usage(conn, rows, problems)
        webhook_deliveries.set_outcome(conn, PUSH_PROVIDER, signature, "applied")
    return UsagePushReceipt(
        status="applied",
        rows_written=result.rows_written,
        unknown_subscribers=len(unknown),
        cap_alerts_queued=result.alerts_queued,
    )


# --- Interstellio's usage meter --------------------------------------------------------------------------


def _check_token(token: str | None) -> None:
    expected = get_settings().interstellio_webhook_token
    if expected is None:
        raise ConfigurationError("INTERSTELLIO_WEBHOOK_TOKEN is not set")
    if not token or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        raise Unauthenticated("Missing or wrong webhook token.")


def _meter_reading(payload: Any) -> tuple[str, str, Decimal, Decimal | None]:
    """(subscriber id, YYYY-MM, monthly combined KB, trigger KB) from the delivery; the payload shape is
    undocumented (providers doc §6), so the meter fields are read at the top level or inside `subscriber`."""
    if not isinstance(payload, dict):
        raise ValidationFailed("The body must be a JSON object.")
    nested = payload.get("subscriber")
    subscriber: dict[str, Any] = nested if isinstance(nested, dict) else {}
    trigger = payload.get("trigger") or payload.get("wh_trigger")
    if trigger is not None and trigger != "subscriber-usage-meter-triggered":
        raise ValidationFailed("Only subscriber-usage-meter-triggered is accepted here.", field="trigger")

    def field(name: str) -> Any:
        return payload.get(name, subscriber.get(name))

    subscriber_id = subscriber.get("id") or payload.get("subscriber_id")
    month = field("monthly_month")
    try:
        combined = Decimal(str(field("monthly_combined_kb")))
        trigger_raw = field("monthly_combined_trigger_kb")
        trigger_kb = None if trigger_raw is None else Decimal(str(trigger_raw))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            "monthly_combined_kb must be a number of KB.", field="monthly_combined_kb"
        ) from None
    if not isinstance(subscriber_id, str) or not 0 < len(subscriber_id) <= 100:
        raise ValidationFailed("subscriber.id is required.", field="subscriber.id")
    if (
        not isinstance(month, str)
        or len(month) != 7
        or month[4] != "-"
        or not (month[:4] + month[5:]).isdigit()
    ):
        raise ValidationFailed("monthly_month must be YYYY-MM.", field="monthly_month")
    if (
        not combined.is_finite()
        or combined < 0
        or (trigger_kb is not None and (not trigger_kb.is_finite() or trigger_kb < 0))
    ):
        raise ValidationFailed(
            "monthly_combined_kb must be a non-negative number.", field="monthly_combined_kb"
        )
    return (
        subscriber_id,
        month,
        combined.to_integral_value(),
        None if trigger_kb is None else trigger_kb.to_integral_value(),
    )


def receive_meter(token: str | None, body: bytes) -> MeterWebhookReceipt:
    _check_token(token)
    try:
        payload = json.loads(body)
    except ValueError:
        raise DomainError("The body is not valid JSON (UTF-8).") from None  # 400, as elsewhere
    subscriber_id, month, combined_kb, trigger_kb = _meter_reading(payload)
    with db.service_session() as conn:
        service = usage.services_by_subscriber(conn, [subscriber_id]).get(subscriber_id)
        if service is None:
            usage.record_ingest_problems(
                conn,
                [
                    {
                        "record_ref": subscriber_id,
                        "error_code": "unknown_subscriber",
                        "message": "A usage-meter webhook names a subscriber no service is linked to.",
                        "suggested_fix": "Link the subscriber id to its service.",
                        "payload": {"source": "usage_meter", "monthly_month": month},
                    }
                ],
            )
            return MeterWebhookReceipt(status="unknown_subscriber", cap_alerts_queued=0)
        if not usage.record_meter_event(conn, service, month, combined_kb, trigger_kb):
            return MeterWebhookReceipt(status="duplicate", cap_alerts_queued=0)
        # The meter counts calendar months: only this month's reading speaks of the current period.
        current_month = sast_today().strftime("%Y-%m") == month
        meter_mb = {service["id"]: kb_to_mb(combined_kb)} if current_month else {}
        alerts = queue_cap_alerts(conn, [service["id"]], meter_used_mb=meter_mb) if current_month else 0
    return MeterWebhookReceipt(status="recorded", cap_alerts_queued=alerts)
