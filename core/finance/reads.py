"""What finance screens and the API read: invoice lists (filtered, scoped), one invoice with its lines and PDF,
the billing schedule of a corporate cohort, an organization's statement, and rows for accountants' exports."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from core.access.scoping import require, visible_cohort
from core.attendance.export import neutralize
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.models import (
    ClassSession,
    Cohort,
    CorporateAgreement,
    CreditNote,
    Invoice,
    InvoiceLine,
    Organization,
    Payment,
    RegisterDocument,
    Role,
    SessionStatus,
    User,
)

from . import money, pricing
from .commands import InvoiceQuery
from .invoices import BILLED, invoice_filter, lines_of
from .terms import agreement_defaults, terms_of


def invoices_query(session: Session, user: User, query: InvoiceQuery, *, organization_id: int | None = None
                   ) -> Select[Any]:
    require(session, user, "corporate_finance.view")
    if query.from_ and query.to and query.to < query.from_:
        raise ValidationError(N_("The period ends before it starts."), code="period_backwards")
    stmt = select(Invoice).where(invoice_filter(user))
    org = organization_id or query.organization_id
    if org:
        stmt = stmt.where(Invoice.organization_id == org)
    if query.cohort_id:
        stmt = stmt.where(Invoice.cohort_id == query.cohort_id)
    if query.status:
        stmt = stmt.where(Invoice.status == query.status)
    day = func.coalesce(Invoice.issued_on, Invoice.period_to)
    if query.from_:
        stmt = stmt.where(day >= query.from_)
    if query.to:
        stmt = stmt.where(day <= query.to)
    return stmt.order_by(Invoice.id.desc())


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    lines: list[InvoiceLine]
    document: RegisterDocument | None


def invoice_view(session: Session, invoice: Invoice) -> InvoiceView:
    document = session.get(RegisterDocument, invoice.document_id) if invoice.document_id else None
    return InvoiceView(invoice, lines_of(session, invoice.id), document)


def line_registers(line: InvoiceLine) -> list[dict[str, int]]:
    return [{"session_id": int(s), "quantity": int(q)} for s, q in json.loads(line.registers or "[]")]


def credit_notes_of(session: Session, invoice_ids: list[int]) -> list[CreditNote]:
    return list(session.scalars(select(CreditNote).where(CreditNote.invoice_id.in_(invoice_ids or [-1]))
                                .order_by(CreditNote.id)))


def payments_of(session: Session, invoice_ids: list[int]) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.invoice_id.in_(invoice_ids or [-1]))
                                .order_by(Payment.paid_on, Payment.id)))


def visible_credit_note(session: Session, user: User, note_id: int) -> CreditNote:
    require(session, user, "corporate_finance.view")
    note = session.scalar(select(CreditNote).join(Invoice, Invoice.id == CreditNote.invoice_id)
                          .where(CreditNote.id == note_id, invoice_filter(user)))
    if note is None:
        raise NotFound(N_("No such credit note."))
    return note


def visible_organization(session: Session, user: User, organization_id: int) -> Organization:
    require(session, user, "corporate_finance.view")
    org = session.get(Organization, organization_id)
    visible = org is not None and (
        user.role == Role.SUPER_ADMIN
        or (user.role in (Role.ADMIN, Role.SUPPORT) and org.institution_id == user.institution_id)
        or (user.role == Role.ORG_MEMBER and org.id in (user.organization_ids or [])))
    if not visible:
        raise NotFound(N_("No such organization."))
    assert org is not None
    return org


# --- statement --------------------------------------------------------------------------------------------------

@dataclass
class Statement:
    organization: Organization
    invoices: list[Invoice]
    credit_notes: list[CreditNote]
    payments: list[Payment]
    balances: dict[str, int] = field(default_factory=dict)   # by currency


def statement(session: Session, user: User, organization_id: int) -> Statement:
    org = visible_organization(session, user, organization_id)
    return statement_of(session, org, invoice_filter(user))


def statement_of(session: Session, org: Organization, scope: ColumnElement[bool]) -> Statement:
    """The organization's issued invoices (within `scope`), their credit notes and payments, and the balance by
    currency (the worker building a statement PDF passes no scope: the document's organization is the scope)."""
    invoices = list(session.scalars(select(Invoice).where(Invoice.organization_id == org.id,
                                                          Invoice.status.in_(BILLED), scope)
                                    .order_by(Invoice.issued_on, Invoice.id)))
    ids = [i.id for i in invoices]
    result = Statement(org, invoices, credit_notes_of(session, ids), payments_of(session, ids))
    for invoice in invoices:
        result.balances[invoice.currency] = result.balances.get(invoice.currency, 0) + invoice.balance
    return result


# --- billing schedule -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleEntry:
    due_on: dt.date
    counts: str
    quantity: int
    amount: int


@dataclass(frozen=True)
class BillingSchedule:
    cohort_id: int
    currency: str | None
    pricing_model: str | None
    billing_plan: str | None
    expected: list[ScheduleEntry]
    expected_total: int
    invoiced: int          # issued invoices' subtotal
    credited: int


def billing_schedule(session: Session, user: User, cohort_id: int) -> BillingSchedule:
    """Expected billing by date from the terms, the planned sessions (read now: it follows schedule changes)
    and the expected trainee count, beside what issued invoices billed so far (net of tax)."""
    require(session, user, "corporate_finance.view")
    cohort = visible_cohort(session, user, cohort_id)
    if not cohort.is_corporate or cohort.agreement_id is None:
        raise NotFound(N_("No such corporate cohort."))
    agreement = session.get(CorporateAgreement, cohort.agreement_id)
    terms = terms_of(agreement, agreement_defaults(session, agreement)) if agreement else None
    invoiced, credited = session.execute(
        select(func.coalesce(func.sum(Invoice.subtotal), 0), func.coalesce(func.sum(Invoice.credited), 0))
        .where(Invoice.cohort_id == cohort.id, Invoice.status.in_(BILLED))).one()
    if terms is None:
        return BillingSchedule(cohort.id, None, None, None, [], 0, int(invoiced), int(credited))
    planned = [(day, sid) for sid, day in session.execute(
        select(ClassSession.id, ClassSession.session_date).where(
            ClassSession.cohort_id == cohort.id, ClassSession.status != SessionStatus.CANCELLED)
        .order_by(ClassSession.session_date))]
    start = cohort.start_date or (planned[0][0] if planned else dt.date.today())
    end = max(cohort.end_date or (planned[-1][0] if planned else start), start)
    lines = pricing.schedule(terms, start, end, planned, cohort.expected_trainee_count or 0)
    expected = [ScheduleEntry(line.due_on, line.counts, line.quantity, line.amount) for line in lines]
    return BillingSchedule(cohort.id, terms.currency, terms.pricing_model.value, terms.billing_plan.value, expected,
                           sum(e.amount for e in expected), int(invoiced), int(credited))


# --- exports ----------------------------------------------------------------------------------------------------

EXPORT_HEADER = ["number", "status", "organization", "cohort", "period_from", "period_to", "issued_on", "due_on",
                 "currency", "subtotal", "tax", "total", "paid", "credited", "balance"]


def export_rows(session: Session, stmt: Select[Any]) -> list[list[str]]:
    """One row per invoice, every text cell neutralized (no spreadsheet formulas)."""
    rows = session.execute(stmt.with_only_columns(Invoice, Organization.name, Cohort.name)
                           .join(Organization, Organization.id == Invoice.organization_id)
                           .join(Cohort, Cohort.id == Invoice.cohort_id)).all()
    out = [list(EXPORT_HEADER)]
    for inv, org_name, cohort_name in rows:
        cur = inv.currency
        out.append([neutralize(v) for v in (
            inv.number or "", inv.status, org_name, cohort_name, inv.period_from, inv.period_to, inv.issued_on or "",
            inv.due_on or "", cur, money.format_amount(inv.subtotal, cur), money.format_amount(inv.tax, cur),
            money.format_amount(inv.total, cur), money.format_amount(inv.paid, cur),
            money.format_amount(inv.credited, cur), money.format_amount(inv.balance, cur))])
    return out


def to_xlsx(rows: list[list[str]], title: str = "Invoices") -> bytes:
    """`rows` (cells already neutralized) as a one-sheet workbook; the at-risk export uses it too."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def search_clause(q: str) -> Any:
    return or_(Invoice.number.ilike(f"%{q}%"))
