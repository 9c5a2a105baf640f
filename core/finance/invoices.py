"""Invoices: drafts from locked registers, edits and deletion of drafts, issuing with a gap-free number.

A draft reads **locked registers only** (the lock rule: core.attendance.locking) and bills, per register, what
it counts now minus what issued invoices of the cohort already billed on it: an issued invoice never changes,
and a register unlocked, corrected and locked again shows its difference on the next draft. Each line keeps
the registers it rests on and what each contributed.

Issuing takes the next number of the institution's sequence for the year in the same transaction
(store.next_number), fixes the issue and due dates in the institution's time zone, and queues the PDF
(core.finance.jobs). From then on the database refuses any change to the lines or the money (migration 0021).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, select, true
from sqlalchemy.orm import Session, lazyload

from core import audit, clock, jobs
from core.access.scoping import require
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    AttendanceStatus,
    Cohort,
    CorporateAgreement,
    DocumentFormat,
    DocumentKind,
    Institution,
    Invoice,
    InvoiceLine,
    Role,
    User,
)
from core.registers.service import new_document
from core.uow import unit_of_work

from . import drafting, money, pricing, store, terms
from .commands import EditDraft
from .jobs import BUILD_INVOICE
from .pricing import DraftLine, RegisterCount

DRAFT, ISSUED, PARTLY_PAID, PAID, CREDITED, OVERDUE = "draft", "issued", "partly_paid", "paid", "credited", "overdue"
BILLED = (ISSUED, PARTLY_PAID, PAID, CREDITED, OVERDUE)
BILLABLE = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


def invoice_filter(user: User) -> ColumnElement[bool]:
    """The invoices `user` may see: staff their institution's; org members their organizations' issued ones."""
    match user.role:
        case Role.SUPER_ADMIN:
            return true()
        case Role.ADMIN | Role.SUPPORT:
            return Invoice.institution_id == user.institution_id
        case Role.ORG_MEMBER:
            return and_(Invoice.organization_id.in_(user.organization_ids or [-1]), Invoice.status != DRAFT)
    return false()


def visible_invoice(session: Session, user: User, invoice_id: int, *, lock: bool = False) -> Invoice:
    require(session, user, "corporate_finance.view")
    stmt = select(Invoice).where(Invoice.id == invoice_id, invoice_filter(user))
    invoice = session.scalar(stmt.with_for_update(of=Invoice) if lock else stmt)
    if invoice is None:
        raise NotFound(N_("No such invoice."))
    return invoice


def managed_invoice(session: Session, user: User, invoice_id: int) -> Invoice:
    require(session, user, "corporate_finance.manage")
    return visible_invoice(session, user, invoice_id, lock=True)


def lines_of(session: Session, invoice_id: int) -> list[InvoiceLine]:
    return list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                .order_by(InvoiceLine.position, InvoiceLine.id)))


# --- drafting: core.finance.drafting -----------------------------------------------------------------------------

create_draft = drafting.create_draft
create_drafts = drafting.create_drafts
UnlockedSessions = drafting.UnlockedSessions


def _write_lines(session: Session, invoice: Invoice, lines: list[DraftLine], reason: str | None = None) -> None:
    rows = drafting.line_rows(invoice.id, lines, reason)
    if rows:
        session.execute(InvoiceLine.__table__.insert(), rows)
    invoice.subtotal, invoice.tax, invoice.total = drafting.totals_of(lines)


def edit_draft(session: Session, user: User, invoice_id: int, command: EditDraft) -> Invoice:
    """Replace a draft's lines (kept lines keep what they count and the registers they rest on)."""
    with unit_of_work(session):
        invoice = managed_invoice(session, user, invoice_id)
        if invoice.status != DRAFT:
            raise Conflict(N_("An issued invoice cannot change; issue a credit note instead."), code="invoice_issued")
        existing = {line.id: line for line in lines_of(session, invoice.id)}
        agreement = session.get(CorporateAgreement, invoice.agreement_id)
        assert agreement is not None
        default_rate = terms.effective_tax_rate(session, agreement)
        new_lines = []
        for i, sent in enumerate(command.lines):
            where = f"lines[{i}]"
            old = existing.get(sent.id) if sent.id else None
            if sent.id and old is None:
                raise ValidationError(N_("%(field)s names a line that is not on this invoice."), code="unknown_line",
                                      params={"field": where})
            # A kept deduction of an advance stays negative; every other price is zero or more.
            price = money.parse_amount(sent.unit_price, invoice.currency, field=f"{where}.unit_price",
                                       allow_negative=old is not None and old.counts == pricing.ADVANCE_DEDUCTION)
            rate = money.parse_rate(sent.tax_rate, field=f"{where}.tax_rate") if sent.tax_rate else default_rate
            if abs(sent.quantity * price) > money.MAX_MINOR:
                raise ValidationError(N_("%(field)s is too large."), code="amount_too_large", params={"field": where})
            registers = ()
            if old is not None and old.quantity == sent.quantity:
                registers = tuple(RegisterCount(int(s), int(q)) for s, q in json.loads(old.registers or "[]"))
            new_lines.append(DraftLine(old.counts if old else pricing.MANUAL, sent.description, sent.quantity, price,
                                       rate, registers, old.period_key if old else None))
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
        _write_lines(session, invoice, new_lines, command.reason)
        audit.record(session, actor_id=user.id, action="invoice.edit", entity_type="invoice", entity_id=invoice.id,
                     after={"lines": len(new_lines), "total": invoice.total}, context={"reason": command.reason})
    session.expire(invoice)
    return invoice


def delete_draft(session: Session, user: User, invoice_id: int) -> None:
    with unit_of_work(session):
        invoice = managed_invoice(session, user, invoice_id)
        if invoice.status != DRAFT:
            raise Conflict(N_("Only a draft can be deleted; an issued invoice is corrected by a credit note."),
                           code="invoice_issued")
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
        audit.record(session, actor_id=user.id, action="invoice.delete", entity_type="invoice", entity_id=invoice.id,
                     before={"total": invoice.total, "cohort_id": invoice.cohort_id})
        session.delete(invoice)


# --- issuing ----------------------------------------------------------------------------------------------------

def number_text(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def issue(session: Session, user: User, invoice_id: int, *, language: str | None = None) -> Invoice:
    """Number, date and freeze the draft, and queue its PDF, in one transaction: a failure anywhere rolls the
    number back with everything else.

    Concurrent issues in an institution queue on its counter row from the moment the number is taken to the
    commit, so everything else is written first (the document row, the job, the audit row: flushed before the
    number), and after it come one UPDATE of the invoice and the COMMIT."""
    with unit_of_work(session):
        invoice = managed_invoice(session, user, invoice_id)
        if invoice.status != DRAFT:
            raise Conflict(N_("This invoice has already been issued (%(number)s)."), code="already_issued",
                           params={"number": invoice.number})
        if invoice.total <= 0:
            raise ValidationError(N_("An invoice with nothing to pay cannot be issued."), code="empty_invoice")
        inst = session.get(Institution, invoice.institution_id)
        assert inst is not None
        today = clock.today_in(inst.time_zone)
        due_on = today + dt.timedelta(days=inst.payment_terms_days or 0)
        pdf_language = language or invoice.language
        # The cohort only scopes the document row: no need for its facilitators and the rest.
        cohort = session.get(Cohort, invoice.cohort_id, options=[lazyload("*")])
        doc = new_document(session, cohort, user, DocumentKind.INVOICE_PDF, DocumentFormat.PDF, pdf_language)
        jobs.enqueue(session, BUILD_INVOICE, doc.id, wait=False)  # the answer does not wait for the broker
        audit.record(session, actor_id=user.id, action="invoice.issue", entity_type="invoice", entity_id=invoice.id,
                     after={"total": invoice.total, "due_on": str(due_on), "document_id": doc.id})
        session.flush()
        store.number_invoice(session, invoice.id, inst.id, today.year, inst.invoice_prefix or "INV", {
            "status": ISSUED, "issued_on": today, "issued_at": clock.now(), "due_on": due_on, "document_id": doc.id,
            "language": pdf_language, "updated_at": clock.now()})   # the counter is locked from here to the commit
    session.expire(invoice)
    return invoice


def status_after(invoice: Invoice, today: dt.date) -> str:
    """An issued invoice's status from its money and dates (never back to draft)."""
    if invoice.status == DRAFT:
        return DRAFT
    if invoice.credited >= invoice.total:
        return CREDITED
    if invoice.paid + invoice.credited >= invoice.total:
        return PAID
    if invoice.due_on is not None and invoice.due_on < today:
        return OVERDUE
    return PARTLY_PAID if invoice.paid > 0 else ISSUED


def details(invoice: Invoice) -> dict[str, Any]:
    return {"number": invoice.number, "status": invoice.status}
