"""Typed commands for corporate finance. Amounts, prices and rates are decimal strings ("862.50", "15.00"):
their currency decides how many decimals they may have, so the use case parses them (core.finance.money)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from core.at_risk.fields import AbsenceLimit, RequiredRate
from core.fields import Command, Day, Id, Language, PageQuery, clean_text
from core.input_fields import bounded

DecimalText = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^-?[0-9]{1,16}(\.[0-9]{1,6})?$",
                                   description='A decimal string in the major unit, e.g. "862.50".'),
                        AfterValidator(clean_text)]
RateText = Annotated[str, Field(min_length=1, max_length=8, pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$",
                                description='A percentage with at most two decimals, e.g. "15.00" (0 … 100).'),
                     AfterValidator(clean_text)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$",
                                    description="ISO 4217, e.g. ZAR, DZD, EUR, USD.")]
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\u0000]*[^\u0000\s][^\u0000]*$"),
                   AfterValidator(clean_text)]
PricingModelName = Literal["per_attended_trainee_day", "per_enrolled_trainee", "per_delivered_session", "fixed"]
BillingPlanName = Literal["monthly", "on_completion"]
InvoiceStatusName = Literal["draft", "issued", "partly_paid", "paid", "credited", "overdue"]
Quantity = Annotated[int, Field(ge=0, le=1_000_000)]
# The attendance statuses, in the order they are stored and printed.
STATUS_ORDER = ("PRESENT", "LATE", "EXCUSED", "ABSENT")
StatusName = Literal["PRESENT", "LATE", "EXCUSED", "ABSENT"]


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("name each status once")
    return values


BillableStatuses = Annotated[list[StatusName], Field(min_length=1, max_length=4, description=(
    "The attendance statuses that make a billed trainee-day (per_attended_trainee_day). Default: PRESENT and "
    "LATE (attended days only); add EXCUSED and/or ABSENT to bill those too.")), AfterValidator(_distinct)]


class UpdateTerms(Command):
    """Only the keys sent change. An ACTIVE agreement's terms change only with a `reason` (kept in its history)."""

    pricing_model: PricingModelName | None = None
    unit_price: DecimalText | None = None
    currency: CurrencyCode | None = None
    tax_rate: RateText | None = None
    upfront_percent: RateText | None = None
    billing_plan: BillingPlanName | None = None
    billable_statuses: BillableStatuses | None = None
    required_rate: RequiredRate | None = None
    absence_limit: AbsenceLimit | None = None
    reason: Reason | None = None


class UpdateBilling(Command):
    """An institution's billing details (only the keys sent change)."""

    legal_name: bounded(200) = None
    tax_number: bounded(60) = None
    billing_address: bounded(2000) = None
    invoice_prefix: Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9]{1,12}$")] | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] | None = None
    bank_details: bounded(2000) = None
    default_tax_rate: RateText | None = None


class CreateInvoice(Command):
    cohort_id: Id
    period_from: Day
    period_to: Day
    skip_unlocked: bool = Field(False, description="Bill the locked registers only, leaving the unlocked ones of "
                                                   "the period for a later invoice (otherwise: 409 naming them).")

    @model_validator(mode="after")
    def _ordered(self) -> CreateInvoice:
        if self.period_to < self.period_from:
            raise ValueError("period_to must not be before period_from")
        return self


class CreateDrafts(Command):
    """A billing run: a draft per cohort for the same period (all or none)."""

    cohort_ids: list[Id] = Field(min_length=1, max_length=1000)
    period_from: Day
    period_to: Day
    skip_unlocked: bool = False


class LineInput(Command):
    id: Id | None = Field(None, description="An existing line to change; absent: a new line.")
    description: Annotated[str, Field(min_length=1, max_length=300), AfterValidator(clean_text)]
    quantity: Quantity
    unit_price: DecimalText
    tax_rate: RateText | None = Field(None, description="Absent: the agreement's tax rate.")


class EditDraft(Command):
    """Replace a draft's lines: lines sent with an `id` change, without one are added, left out are removed."""

    lines: list[LineInput] = Field(max_length=200)
    reason: Reason


class IssueInvoice(Command):
    language: Language | None = Field(None, description="The PDF's language; absent: the institution's default.")


class StatementRequest(Command):
    language: Language | None = Field(None, description="The PDF's language; absent: the institution's default.")
    organization_id: Id | None = Field(None, description="/api/org/statement/document: which of your organizations "
                                                         "(absent: your first).")


class CreateCreditNote(Command):
    amount: DecimalText | None = Field(None, description="Total to credit, tax included; absent: the whole balance.")
    reason: Reason


class RecordPayment(Command):
    amount: DecimalText
    paid_on: Day
    reference: bounded(120) = None


class InvoiceQuery(PageQuery):
    organization_id: Id | None = None
    cohort_id: Id | None = None
    status: InvoiceStatusName | None = None
    from_: Day | None = Field(None, alias="from", description="Issued (or, for drafts, period ending) on or after.")
    to: Day | None = None
