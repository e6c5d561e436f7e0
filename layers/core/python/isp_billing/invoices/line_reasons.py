"""A customer-readable reason for each invoice line, in words, from the line's `source` (the rule and the
figures the billing run, or a credit note, used). One place for the wording, a sentence per rule.

E.g. "Pro-rata 10\u201324 Feb 2026: 15 of 31 days of R699.00". Unknown or legacy sources (imported lines carry
none) fall back to the line's own description, so a reason is always there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from isp_billing.money import format_money

DASH = "\u2013"  # an en dash, as a printed date range has
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rand(value: Any) -> str:
    """R699.00; a negative amount as -R50.00."""
    amount = Decimal(str(value))
    return f"-R{format_money(-amount)}" if amount < 0 else f"R{format_money(amount)}"


def day(value: date) -> str:
    return f"{value.day} {_MONTHS[value.month]} {value.year}"


def span(first: date | None, last: date | None) -> str:
    """'10-24 Feb 2026', '25 Jan-24 Feb 2026', '25 Dec 2025-24 Jan 2026', joined by an en dash (U+2013)."""
    if first is None or last is None:
        known = first or last
        return day(known) if known is not None else ""
    if first == last:
        return day(first)
    if first.year != last.year:
        return f"{day(first)}{DASH}{day(last)}"
    if first.month != last.month:
        return f"{first.day} {_MONTHS[first.month]}{DASH}{day(last)}"
    return f"{first.day}{DASH}{day(last)}"


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _days_of(used: Any, period: Any, price: Any) -> str:
    return f"{used} of {period} days of {rand(price)}"


Line = Mapping[str, Any]


def _recurring(line: Line, source: Mapping[str, Any]) -> str:
    period = span(line["period_start"], line["period_end"])
    return f"Monthly charge for {period}: {rand(source['monthly_price'])}"


def _final_period(line: Line, source: Mapping[str, Any]) -> str:
    used = _days_of(source["days_used"], source["days_in_period"], source["monthly_price"])
    return f"Final period {span(line['period_start'], line['period_end'])} (service cancelled): {used}"


def _catch_up(line: Line, source: Mapping[str, Any]) -> str:
    label = "Pro-rata" if source["rule"] == "activation_pro_rata" else "Pro-rata after reactivation"
    segments = source.get("segments") or []
    parts = [
        f"{span(_date(s['from']), _date(s['to']))}: "
        f"{_days_of(s['billable_days'], source['days_in_period'], s['monthly_price'])}"
        for s in segments
    ]
    if len(parts) == 1:
        billable = segments[0]["billable_days"]
        return f"{label} {span(line['period_start'], line['period_end'])}: " + _days_of(
            billable, source["days_in_period"], segments[0]["monthly_price"]
        )
    return f"{label} {span(line['period_start'], line['period_end'])}: " + "; ".join(parts)


def _price_change(line: Line, source: Mapping[str, Any]) -> str:
    old, new = Decimal(source["old_price"]), Decimal(source["new_price"])
    change = "Upgrade" if new > old else "Downgrade"
    return (
        f"{change} from {rand(old)} to {rand(new)} for {span(line['period_start'], line['period_end'])}: "
        f"{source['days']} of {source['days_in_period']} days of the {rand(abs(new - old))} difference"
    )


def _cancellation_credit(line: Line, source: Mapping[str, Any]) -> str:
    unused = _days_of(source["unused_days"], source["days_in_period"], source["invoiced_price"])
    return f"Credit for {span(line['period_start'], line['period_end'])} after cancellation: {unused}"


def _suspension_credit(line: Line, source: Mapping[str, Any]) -> str:
    paused = _days_of(source["paused_days"], source["days_in_period"], source["invoiced_price"])
    period = span(line["period_start"], line["period_end"])
    return f"Credit for {period} while suspended at your request: {paused}"


def _once_off(line: Line, source: Mapping[str, Any]) -> str:
    due = _date(source.get("due_date"))
    return f"Once-off charge: {line['description']}" + (f" (due {day(due)})" if due else "")


def _credit_applied(line: Line, source: Mapping[str, Any]) -> str:
    before = rand(source["credit_balance_before"])
    return f"Account credit applied: {rand(-Decimal(line['amount']))} of your {before} credit"


def _credit_carried(line: Line, source: Mapping[str, Any]) -> str:
    excess = rand(source["credits_exceeding_charges"])
    return f"Credits exceeded charges by {excess}: carried to your account credit"


def _overage(line: Line, source: Mapping[str, Any]) -> str:
    return (
        f"Out-of-bundle usage {span(line['period_start'], line['period_end'])}: {source['over_gb']} GB"
        f" over the {source['cap_gb']} GB cap at {rand(source['price_per_gb'])}/GB"
    )


def _overage_correction(line: Line, source: Mapping[str, Any]) -> str:
    return (
        f"Out-of-bundle usage correction for {span(line['period_start'], line['period_end'])}: now"
        f" {source['over_gb']} GB over the {source['cap_gb']} GB cap at {rand(source['price_per_gb'])}/GB"
        f" ({rand(source['should_be'])}), {rand(source['already_billed'])} already billed"
    )


def _credit_note(line: Line, source: Mapping[str, Any]) -> str:
    credited = source.get("credited_description")
    target = f" ({credited})" if credited else ""
    return f"Credit note on invoice {source['invoice_number']}{target}: {source['reason']}"


_BY_RULE: dict[str, Callable[[Line, Mapping[str, Any]], str]] = {
    "recurring": _recurring,
    "final_period_pro_rata": _final_period,
    "activation_pro_rata": _catch_up,
    "reactivation_pro_rata": _catch_up,
    "price_change_pro_rata": _price_change,
    "cancellation_credit": _cancellation_credit,
    "suspension_credit": _suspension_credit,
    "once_off_charge": _once_off,
    "credit_balance_applied": _credit_applied,
    "excess_credit_to_balance": _credit_carried,
    "credit_note": _credit_note,
    "overage": _overage,
    "overage_correction": _overage_correction,
}


def reason(line: Line) -> str:
    """The reason for one line (a row with kind, description, amount, period and source)."""
    source = line.get("source") or {}
    wording = _BY_RULE.get(str(source.get("rule")))
    if wording is None:
        return str(line["description"])
    try:
        return wording(line, source)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        # A source written by an older rule version lacks a figure: the description still explains it.
        return str(line["description"])
