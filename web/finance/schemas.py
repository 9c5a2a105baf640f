"""Response schemas of corporate finance and the presenters that fill them. Amounts are decimal strings in the
currency's major unit ("862.50"); rates are percentages with two decimals ("15.00")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from pydantic import BaseModel, Field

from core.finance import money
from core.finance.billing import TermDefaults, billing_json
from core.finance.reads import BillingSchedule, InvoiceView, line_registers
from core.finance.terms import statuses_of, terms_json
from core.models import CorporateAgreement, CreditNote, Institution, Payment, RegisterDocument

AMOUNT = Field(description='A decimal string in the currency\'s major unit, e.g. "862.50".')


class RegisterRef(BaseModel):
    session_id: int = Field(description="The register (session) the line rests on; 0 for the roster.")
    quantity: int


class LineOut(BaseModel):
    id: int
    description: str
    counts: str = Field(description="What the line counts: attended_trainee_days, enrolled_trainees, "
                                    "delivered_sessions, upfront, instalment, completion or manual.")
    quantity: int
    unit_price: str = AMOUNT
    tax_rate: str
    amount: str = AMOUNT
    tax: str = AMOUNT
    registers: list[RegisterRef]
    reason: str | None


class DocumentRef(BaseModel):
    status: str | None = Field(description="PENDING, BUILDING, READY or FAILED; null while a draft.")
    download_url: str | None


class InvoiceOut(BaseModel):
    id: int
    number: str | None
    status: str
    organization_id: int
    cohort_id: int
    period_from: dt.date
    period_to: dt.date
    currency: str
    lines: list[LineOut]
    subtotal: str = AMOUNT
    tax: str = AMOUNT
    total: str = AMOUNT
    balance: str = AMOUNT
    issued_on: dt.date | None
    due_on: dt.date | None
    billed_statuses: list[str] | None = Field(description="The attendance statuses counted as billed trainee-days "
                                                          "(attended-days pricing; null otherwise).")
    document: DocumentRef


class DraftsOut(BaseModel):
    invoice_ids: list[int] = Field(description="The drafts made, in the order of the cohorts sent.")


class CreditNoteOut(BaseModel):
    id: int
    number: str
    invoice_id: int
    issued_on: dt.date
    currency: str
    subtotal: str = AMOUNT
    tax: str = AMOUNT
    total: str = AMOUNT
    reason: str
    document: DocumentRef


class PaymentOut(BaseModel):
    id: int
    invoice_id: int
    amount: str = AMOUNT
    paid_on: dt.date
    reference: str | None


class TermsOut(BaseModel):
    id: int
    status: str
    pricing_model: str | None
    unit_price: str | None
    currency: str | None
    tax_rate: str | None
    tax_name: str | None = Field(description="The country's name for the tax (VAT, TVA), where known.")
    upfront_percent: str
    billing_plan: str
    billable_statuses: list[str] = Field(description="Statuses billed as trainee-days; default PRESENT, LATE.")
    inherited: list[str] = Field(description="Fields left out of the agreement, shown with the default they take "
                                             "(currency: the country's; tax_rate: the institution's or country's).")
    required_rate: float | None = None
    absence_limit: int | None = None


class BillingOut(BaseModel):
    id: int
    name: str
    legal_name: str | None
    tax_number: str | None
    billing_address: str | None
    invoice_prefix: str
    payment_terms_days: int
    bank_details: str | None
    default_tax_rate: str | None
    default_currency: str | None = Field(description="What agreements without a currency bill in: the country's.")
    effective_tax_rate: str | None = Field(description="What agreements without a tax rate take: the default tax "
                                                       "rate, else the country's standard rate.")
    tax_name: str | None


class ScheduleLineOut(BaseModel):
    due_on: dt.date
    counts: str
    quantity: int
    amount: str = AMOUNT


class BillingScheduleOut(BaseModel):
    cohort_id: int
    currency: str | None
    pricing_model: str | None
    billing_plan: str | None
    expected: list[ScheduleLineOut]
    expected_total: str | None
    invoiced: str | None = Field(description="Issued invoices' subtotal so far.")
    credited: str | None


class StatementDocumentOut(BaseModel):
    """A statement PDF: 202 while it is built (poll `status_url`), then READY with its `download_url`."""

    id: int
    status: str = Field(description="PENDING, BUILDING, READY or FAILED.")
    status_url: str
    download_url: str | None
    language: str
    reference: str = Field(description="Printed on the PDF; /verify/<reference> confirms it.")


class StatementOut(BaseModel):
    organization_id: int
    organization: str
    invoices: list[InvoiceOut]
    credit_notes: list[CreditNoteOut]
    payments: list[PaymentOut]
    balances: dict[str, str] = Field(description="What is owed, by currency.")


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _document(doc: RegisterDocument | None, endpoint: str, **ids: int) -> dict[str, Any]:
    if doc is None:
        return {"status": None, "download_url": None}
    ready = doc.status.value == "READY"
    return {"status": doc.status.value, "download_url": url_for(endpoint, **ids) if ready else None}


def present_invoice(view: InvoiceView) -> dict[str, Any]:
    inv, cur = view.invoice, view.invoice.currency

    def fmt(value: int) -> str:
        return money.format_amount(value, cur)

    return {
        "id": inv.id, "number": inv.number, "status": inv.status, "organization_id": inv.organization_id,
        "cohort_id": inv.cohort_id, "period_from": _day(inv.period_from), "period_to": _day(inv.period_to),
        "currency": cur,
        "lines": [{"id": line.id, "description": line.description, "counts": line.counts, "quantity": line.quantity,
                   "unit_price": fmt(line.unit_price), "tax_rate": money.format_rate(line.tax_rate),
                   "amount": fmt(line.amount), "tax": fmt(line.tax), "registers": line_registers(line),
                   "reason": line.reason} for line in view.lines],
        "subtotal": fmt(inv.subtotal), "tax": fmt(inv.tax), "total": fmt(inv.total), "balance": fmt(inv.balance),
        "issued_on": _day(inv.issued_on), "due_on": _day(inv.due_on),
        "billed_statuses": list(statuses_of(inv.billed_statuses)) if inv.billed_statuses else None,
        "document": _document(view.document, "finance.api_invoice_document", invoice_id=inv.id),
    }


def present_credit_note(note: CreditNote, doc: RegisterDocument | None) -> dict[str, Any]:
    cur = note.currency
    return {"id": note.id, "number": note.number, "invoice_id": note.invoice_id, "issued_on": _day(note.issued_on),
            "currency": cur, "subtotal": money.format_amount(note.subtotal, cur),
            "tax": money.format_amount(note.tax, cur), "total": money.format_amount(note.total, cur),
            "reason": note.reason, "document": _document(doc, "finance.api_credit_note_document", note_id=note.id)}


def present_payment(payment: Payment, currency: str) -> dict[str, Any]:
    return {"id": payment.id, "invoice_id": payment.invoice_id, "amount": money.format_amount(payment.amount, currency),
            "paid_on": _day(payment.paid_on), "reference": payment.reference}


def present_terms(agreement: CorporateAgreement, defaults: TermDefaults) -> dict[str, Any]:
    return {"id": agreement.id, "status": agreement.status.value, **terms_json(agreement, defaults)}


def present_billing(inst: Institution) -> dict[str, Any]:
    return billing_json(inst)


def present_schedule(s: BillingSchedule) -> dict[str, Any]:
    def fmt(value: int) -> str | None:
        return money.format_amount(value, s.currency) if s.currency else None

    return {"cohort_id": s.cohort_id, "currency": s.currency, "pricing_model": s.pricing_model,
            "billing_plan": s.billing_plan,
            "expected": [{"due_on": _day(e.due_on), "counts": e.counts, "quantity": e.quantity, "amount": fmt(e.amount)}
                         for e in s.expected],
            "expected_total": fmt(s.expected_total), "invoiced": fmt(s.invoiced), "credited": fmt(s.credited)}


def present_statement_document(doc: RegisterDocument) -> dict[str, Any]:
    ready = doc.status.value == "READY"
    return {"id": doc.id, "status": doc.status.value, "language": doc.language, "reference": doc.reference,
            "status_url": url_for("finance.api_statement_document", document_id=doc.id),
            "download_url": url_for("finance.api_statement_document_file", document_id=doc.id) if ready else None}
