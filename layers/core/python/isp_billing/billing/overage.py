"""Out-of-bundle usage on the invoice (issue 13): pure rules from a service's usage facts to `overage` lines,
and the usage totals every invoice carries for display.

- Q is the previous period (the invoice for P bills it in arrears, as the catch-up lines do); usage is the
  sum of Q's days with a manual row replacing the synced one for its day.
- over_gb = (used_mb - cap_gb x 1024) / 1024, rounded UP to 3 decimals (a started thousandth of a GB,
  about 1 MB, is charged: the figure printed is never less than what was used);
  amount = round_half_up(over_gb x price_per_gb) to cents.
  Nothing when usage is at or under the cap, when the package is uncapped or has no per-GB price.
- Corrections: Q's overage is billed on P's invoice under `overage:<service>:<Q start>`, and P's invoice
  records Q's usage, cap and price in its usage totals. The next invoice (P+1) looks at Q again: what Q's
  overage should be now (at the cap and price P's invoice used) minus what overage lines for Q were billed;
  a non-zero difference is one `overage` line (positive, or a credit) under
  `overage:<service>:<Q start>:<P+1 start>`. Only that one period back: the sync rewrites at most the last
  3 days, so Q's late days and any manual correction made during P are in by then. An issued invoice is
  never edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from isp_billing.billing.facts_models import LineDraft, ServiceFacts, UsagePeriodFacts
from isp_billing.money import format_money, to_cents
from isp_billing.usage.ingest import MB_PER_GB, cap_mb
from isp_billing.usage.models import format_mb

THOUSANDTH = Decimal("0.001")
ZERO_GB = Decimal("0.000")
ZERO = Decimal("0.00")


def over_gb(used_mb: Decimal, data_cap_gb: int) -> Decimal:
    """GB above the cap, rounded up to the thousandth."""
    cap = cap_mb(data_cap_gb)
    if used_mb <= cap:
        return ZERO_GB
    return ((used_mb - cap) / MB_PER_GB).quantize(THOUSANDTH, rounding=ROUND_CEILING)


def overage_amount(used_mb: Decimal, data_cap_gb: int | None, price_per_gb: Decimal | None) -> Decimal:
    if data_cap_gb is None or price_per_gb is None:
        return ZERO
    return to_cents(over_gb(used_mb, data_cap_gb) * price_per_gb)


def _figures(period: UsagePeriodFacts, cap_gb: int, price_per_gb: Decimal) -> dict[str, Any]:
    """What an overage of `period` is computed from, as its line's source records it."""
    return {
        "period": {"start": str(period.start), "end": str(period.end)},
        "used_mb": format_mb(period.total_mb),
        "cap_gb": cap_gb,
        "over_gb": f"{over_gb(period.total_mb, cap_gb):.3f}",
        "price_per_gb": format_money(price_per_gb),
    }


def overage_lines(service: ServiceFacts, invoice_start: date) -> list[LineDraft]:
    """The previous period's overage, and the settlement of a correction to the period before it."""
    usage = service.usage
    if usage is None:
        return []
    lines = []
    q = usage.previous
    amount = overage_amount(q.total_mb, usage.data_cap_gb, usage.price_per_gb)
    if amount > 0:
        assert usage.data_cap_gb is not None and usage.price_per_gb is not None
        figures = _figures(q, usage.data_cap_gb, usage.price_per_gb)
        lines.append(
            LineDraft(
                kind="overage",
                description=f"{service.name}, out-of-bundle usage {figures['over_gb']} GB",
                amount=amount,
                line_key=f"overage:{service.id}:{q.start}",
                service_id=service.id,
                period_start=q.start,
                period_end=q.end,
                source={
                    "rule": "overage",
                    **figures,
                    "already_billed": format_money(ZERO),
                    "formula": "round_half_up(ceil_0.001((used_mb - cap_gb x 1024) / 1024) x price_per_gb)",
                },
            )
        )
    before = usage.before
    if before is not None and before.data_cap_gb is not None and before.price_per_gb is not None:
        u = before.usage
        should_be = overage_amount(u.total_mb, before.data_cap_gb, before.price_per_gb)
        difference = should_be - before.billed
        if difference != 0:
            figures = _figures(u, before.data_cap_gb, before.price_per_gb)
            lines.append(
                LineDraft(
                    kind="overage",
                    description=(
                        f"{service.name}, out-of-bundle usage correction ({figures['over_gb']} GB now)"
                    ),
                    amount=difference,
                    line_key=f"overage:{service.id}:{u.start}:{invoice_start}",
                    service_id=service.id,
                    period_start=u.start,
                    period_end=u.end,
                    source={
                        "rule": "overage_correction",
                        **figures,
                        "should_be": format_money(should_be),
                        "already_billed": format_money(before.billed),
                        "formula": "should_be - already_billed",
                    },
                )
            )
    return lines


def usage_totals(services: Iterable[ServiceFacts]) -> dict[str, dict[str, Any]] | None:
    """The previous period's usage of each service live in it that is capped or has usage recorded, as the
    invoice shows (and a later invoice settles) it; keyed by service id. None when there is none."""
    totals = {
        str(service.id): {
            "service_name": service.name,
            "period_start": str(service.usage.previous.start),
            "period_end": str(service.usage.previous.end),
            "upload_mb": format_mb(service.usage.previous.upload_mb),
            "download_mb": format_mb(service.usage.previous.download_mb),
            "total_mb": format_mb(service.usage.previous.total_mb),
            "data_cap_gb": service.usage.data_cap_gb,
            "price_per_gb": None
            if service.usage.price_per_gb is None
            else format_money(service.usage.price_per_gb),
        }
        for service in services
        if service.usage is not None
    }
    return totals or None
