"""Pricing: what an invoice line counts and what it costs, from the agreement's terms. Pure functions.

Models (`pricing_model` on the agreement):

* `per_attended_trainee_day`: each trainee present or late on a day with at least one locked register is one
  trainee-day (two sessions on one day are still one day); EXCUSED and ABSENT are not billed unless the terms
  say so (`bill_excused`);
* `per_enrolled_trainee`: each active trainee of the cohort, billed once (later invoices bill only trainees
  added since);
* `per_delivered_session`: each locked, not cancelled session;
* `fixed`: `unit_price` is the agreement's price for the cohort: `upfront_percent` of it at the start, the rest
  in equal monthly instalments over the cohort's months (`monthly`) or at once when the period reaches the
  cohort's end (`on_completion`). Instalments are split exactly: they add up to the price to the minor unit.

An upfront share applies to the usage models that bill over time too (attended trainee-days, delivered
sessions): `upfront_percent` of the expected total (the planned sessions × the expected trainees, as the billing
schedule computes it when the upfront is drafted) is billed once from the start, and later usage invoices deduct
it (an `advance_deduction` line, at most the usage billed) until it is used up. Per enrolled trainee has no
upfront share: the roster is billed at the start anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from . import money


class PricingModel(StrEnum):
    PER_ATTENDED_TRAINEE_DAY = "per_attended_trainee_day"
    PER_ENROLLED_TRAINEE = "per_enrolled_trainee"
    PER_DELIVERED_SESSION = "per_delivered_session"
    FIXED = "fixed"


class BillingPlan(StrEnum):
    MONTHLY = "monthly"
    ON_COMPLETION = "on_completion"


# What a line counts (`counts` in the API), by pricing model; plus the fixed plan's parts and hand-made lines.
COUNTS = {
    PricingModel.PER_ATTENDED_TRAINEE_DAY: "attended_trainee_days",
    PricingModel.PER_ENROLLED_TRAINEE: "enrolled_trainees",
    PricingModel.PER_DELIVERED_SESSION: "delivered_sessions",
}
UPFRONT, INSTALMENT, COMPLETION, MANUAL = "upfront", "instalment", "completion", "manual"
ADVANCE_DEDUCTION = "advance_deduction"
# The models an upfront share applies to (see the module's docstring).
UPFRONT_MODELS = (PricingModel.FIXED, PricingModel.PER_ATTENDED_TRAINEE_DAY, PricingModel.PER_DELIVERED_SESSION)
DESCRIPTIONS = {
    "attended_trainee_days": "Attended trainee-days",
    "enrolled_trainees": "Enrolled trainees",
    "delivered_sessions": "Delivered sessions",
    UPFRONT: "Upfront payment",
    INSTALMENT: "Monthly instalment",
    COMPLETION: "Balance on completion",
    MANUAL: "Adjustment",
    ADVANCE_DEDUCTION: "Upfront payment deducted",
}


@dataclass(frozen=True)
class Terms:
    pricing_model: PricingModel
    unit_price: int            # minor units
    currency: str
    tax_rate: int              # hundredths of a percent
    upfront_percent: int = 0   # hundredths of a percent
    billing_plan: BillingPlan = BillingPlan.MONTHLY
    billable_statuses: tuple[str, ...] = ("PRESENT", "LATE")   # what makes a billed trainee-day
    tax_name: str | None = None                                  # VAT, TVA: the country's name for the tax

    @property
    def takes_advance(self) -> bool:
        """A usage model with an upfront share: billed from the expected total, deducted from later usage."""
        return bool(self.upfront_percent) and self.pricing_model in UPFRONT_MODELS \
            and self.pricing_model != PricingModel.FIXED


@dataclass(frozen=True)
class RegisterCount:
    """What one locked register contributes to a usage line (quantity it adds)."""

    session_id: int
    quantity: int


@dataclass(frozen=True)
class DraftLine:
    counts: str
    description: str
    quantity: int
    unit_price: int
    tax_rate: int
    registers: tuple[RegisterCount, ...] = field(default=())
    period_key: str | None = None   # fixed-plan parts: "upfront", "2026-11", "completion" (billed once)

    @property
    def amount(self) -> int:
        return money.line_amount(self.quantity, self.unit_price)

    @property
    def tax(self) -> int:
        return money.line_tax(self.amount, self.tax_rate)


def usage_line(terms: Terms, registers: list[RegisterCount]) -> DraftLine | None:
    """One line for a usage model: the registers' quantities summed (none: no line)."""
    counted = tuple(r for r in registers if r.quantity)
    quantity = sum(r.quantity for r in counted)
    if quantity <= 0:
        return None
    counts = COUNTS[terms.pricing_model]
    return DraftLine(counts, DESCRIPTIONS[counts], quantity, terms.unit_price, terms.tax_rate, counted)


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """The calendar months a cohort spans, as "YYYY-MM", first to last."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def split_exactly(amount: int, parts: int) -> list[int]:
    """`amount` in `parts` instalments that differ by at most one minor unit and add up to `amount` exactly."""
    return [amount * i // parts - amount * (i - 1) // parts for i in range(1, parts + 1)]


def month_end(key: str) -> dt.date:
    year, month = int(key[:4]), int(key[5:])
    first_next = dt.date(year + (month == 12), 1 if month == 12 else month + 1, 1)
    return first_next - dt.timedelta(days=1)


@dataclass(frozen=True)
class FixedPart:
    key: str          # "upfront", "YYYY-MM", "completion"
    counts: str
    due: dt.date      # when the schedule expects it
    amount: int


def fixed_parts(terms: Terms, start: dt.date, end: dt.date) -> list[FixedPart]:
    """The fixed price as its parts: the upfront share on the start date, then the instalments or the balance."""
    upfront = money.share(terms.unit_price, terms.upfront_percent)
    parts = [FixedPart(UPFRONT, UPFRONT, start, upfront)] if upfront else []
    rest = terms.unit_price - upfront
    if rest <= 0:
        return parts
    if terms.billing_plan == BillingPlan.ON_COMPLETION:
        return [*parts, FixedPart(COMPLETION, COMPLETION, end, rest)]
    months = months_between(start, end)
    return parts + [FixedPart(key, INSTALMENT, min(month_end(key), end), amount)
                    for key, amount in zip(months, split_exactly(rest, len(months)), strict=True) if amount]


def fixed_lines(terms: Terms, start: dt.date, end: dt.date, period_from: dt.date, period_to: dt.date,
                billed: set[str]) -> list[DraftLine]:
    """The fixed-price parts due in the period and not billed yet (`billed`: their keys on earlier invoices)."""
    lines = []
    for part in fixed_parts(terms, start, end):
        if part.key in billed or part.due > period_to:  # earlier parts not billed yet are caught up
            continue
        description = DESCRIPTIONS[part.counts] + (f" {part.key}" if part.counts == INSTALMENT else "")
        lines.append(DraftLine(part.counts, description, 1, part.amount, terms.tax_rate, (), part.key))
    return lines


@dataclass(frozen=True)
class ScheduleLine:
    due_on: dt.date
    counts: str
    quantity: int
    amount: int


def usage_schedule(terms: Terms, start: dt.date, end: dt.date, planned: list[tuple[dt.date, int]],
                   expected_trainees: int) -> list[ScheduleLine]:
    """Expected usage by date. `planned`: each planned (not cancelled) session's date and id.

    Usage models expect every expected trainee at every planned session day; by month (`monthly`: at each
    month's end) or all at the end (`on_completion`); enrolled trainees at the start."""
    counts = COUNTS[terms.pricing_model]
    if terms.pricing_model == PricingModel.PER_ENROLLED_TRAINEE:
        return [ScheduleLine(start, counts, expected_trainees, expected_trainees * terms.unit_price)] \
            if expected_trainees else []
    by_month: dict[str, int] = {}
    days: dict[str, set[dt.date]] = {}
    for day, _session in planned:
        key = f"{day.year:04d}-{day.month:02d}"
        by_month[key] = by_month.get(key, 0) + 1
        days.setdefault(key, set()).add(day)
    per_month = {key: (len(days[key]) * expected_trainees if terms.pricing_model ==
                       PricingModel.PER_ATTENDED_TRAINEE_DAY else by_month[key]) for key in sorted(by_month)}
    if terms.billing_plan == BillingPlan.ON_COMPLETION:
        quantity = sum(per_month.values())
        return [ScheduleLine(end, counts, quantity, quantity * terms.unit_price)] if quantity else []
    return [ScheduleLine(min(month_end(key), end), counts, q, q * terms.unit_price)
            for key, q in per_month.items() if q]


def advance_of(terms: Terms, expected_total: int) -> int:
    """The upfront share of a usage model's expected total (0 where no share applies)."""
    return money.share(expected_total, terms.upfront_percent) if terms.takes_advance else 0


def schedule(terms: Terms, start: dt.date, end: dt.date, planned: list[tuple[dt.date, int]],
             expected_trainees: int) -> list[ScheduleLine]:
    """Expected billing by date: the fixed plan's parts, or the usage expected (usage_schedule) with, where an
    upfront share applies, the advance at the start and its deduction from the usage lines that follow."""
    if terms.pricing_model == PricingModel.FIXED:
        return [ScheduleLine(p.due, p.counts, 1, p.amount) for p in fixed_parts(terms, start, end)]
    usage = usage_schedule(terms, start, end, planned, expected_trainees)
    left = advance_of(terms, sum(line.amount for line in usage))
    if not left:
        return usage
    lines = [ScheduleLine(start, UPFRONT, 1, left)]
    for line in usage:
        lines.append(line)
        deducted = min(left, line.amount)
        if deducted:
            lines.append(ScheduleLine(line.due_on, ADVANCE_DEDUCTION, 1, -deducted))
            left -= deducted
    return lines


def advance_lines(terms: Terms, start: dt.date, period_to: dt.date, expected_total: int, usage: DraftLine | None,
                  upfront_billed: bool, advance_left: int) -> list[DraftLine]:
    """A usage draft's advance lines: the upfront share once the period reaches the start (billed once), or
    else the deduction of what is left of an advance already issued from this draft's usage (never more)."""
    if not terms.takes_advance:
        return []
    if not upfront_billed:
        amount = advance_of(terms, expected_total)
        if not amount or start > period_to:
            return []
        return [DraftLine(UPFRONT, DESCRIPTIONS[UPFRONT], 1, amount, terms.tax_rate, (), UPFRONT)]
    deducted = min(advance_left, usage.amount) if usage is not None else 0
    if deducted <= 0:
        return []
    return [DraftLine(ADVANCE_DEDUCTION, DESCRIPTIONS[ADVANCE_DEDUCTION], 1, -deducted, terms.tax_rate)]
