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
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, select, true
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.access.scoping import require, visible_cohort
from core.attendance.locking import lock_states
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    AttendanceStatus,
    ClassSession,
    Cohort,
    CorporateAgreement,
    CorporateAttendanceRecord,
    CorporateTrainee,
    DocumentFormat,
    DocumentKind,
    Institution,
    Invoice,
    InvoiceLine,
    Role,
    SessionStatus,
    User,
)
from core.registers.service import new_document
from core.uow import unit_of_work

from . import money, pricing, store
from .commands import CreateInvoice, EditDraft
from .jobs import BUILD_INVOICE
from .pricing import DraftLine, PricingModel, RegisterCount
from .terms import terms_of

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


# --- drafting ---------------------------------------------------------------------------------------------------

class UnlockedSessions(Conflict):
    code = "registers_not_locked"


def _check_period(cohort: Cohort, command: CreateInvoice) -> None:
    if command.period_to < command.period_from:
        raise ValidationError(N_("The period ends before it starts."), code="period_backwards")
    if (cohort.start_date and command.period_to < cohort.start_date) or \
            (cohort.end_date and command.period_from > cohort.end_date):
        raise ValidationError(N_("The period is outside the cohort's dates."), code="period_outside_cohort")


def _sessions(session: Session, cohort: Cohort, start: dt.date, end: dt.date) -> list[ClassSession]:
    return list(session.scalars(select(ClassSession).where(
        ClassSession.cohort_id == cohort.id, ClassSession.session_date >= start, ClassSession.session_date <= end,
        ClassSession.status != SessionStatus.CANCELLED).order_by(ClassSession.starts_at)))


def _already_billed(session: Session, cohort_id: int) -> tuple[dict[int, int], set[str]]:
    """Per register, the quantity issued invoices of the cohort billed on it; and the fixed parts they billed."""
    per_register: dict[int, int] = defaultdict(int)
    keys: set[str] = set()
    rows = session.execute(select(InvoiceLine.registers, InvoiceLine.period_key).join(
        Invoice, Invoice.id == InvoiceLine.invoice_id).where(Invoice.cohort_id == cohort_id,
                                                             Invoice.status.in_(BILLED)))
    for registers, key in rows:
        for session_id, quantity in json.loads(registers or "[]"):
            per_register[int(session_id)] += int(quantity)
        if key:
            keys.add(key)
    return per_register, keys


def _trainee_days(session: Session, session_ids: list[int]) -> dict[int, int]:
    """Per register, the trainee-days it counts: a trainee present or late on a day counts once that day, on
    the day's first locked register they attended."""
    if not session_ids:
        return {}
    firsts = (select(CorporateAttendanceRecord.trainee_id, ClassSession.session_date,
                     func.min(ClassSession.id).label("session_id"))
              .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
              .where(CorporateAttendanceRecord.session_id.in_(session_ids),
                     CorporateAttendanceRecord.status.in_(BILLABLE))
              .group_by(CorporateAttendanceRecord.trainee_id, ClassSession.session_date).subquery())
    return dict(session.execute(select(firsts.c.session_id, func.count()).group_by(firsts.c.session_id)).all())


def _usage(session: Session, cohort: Cohort, model: PricingModel, locked: list[int]) -> dict[int, int]:
    if model == PricingModel.PER_ATTENDED_TRAINEE_DAY:
        return _trainee_days(session, locked)
    if model == PricingModel.PER_DELIVERED_SESSION:
        return dict.fromkeys(locked, 1)
    enrolled = session.scalar(select(func.count()).select_from(CorporateTrainee).where(
        CorporateTrainee.cohort_id == cohort.id, CorporateTrainee.active.is_(True))) or 0
    return {0: int(enrolled)}  # not a register: the roster (register id 0)


def draft_lines(session: Session, cohort: Cohort, agreement: CorporateAgreement, period_from: dt.date,
                period_to: dt.date, locked: list[int]) -> list[DraftLine]:
    """What a draft for the period bills, net of what issued invoices already billed."""
    terms = terms_of(agreement)
    assert terms is not None
    per_register, keys = _already_billed(session, cohort.id)
    if terms.pricing_model == PricingModel.FIXED:
        start = cohort.start_date or period_from
        return pricing.fixed_lines(terms, start, max(cohort.end_date or period_to, start), period_from, period_to,
                                   keys)
    usage = _usage(session, cohort, terms.pricing_model, locked)
    counts = [RegisterCount(sid, max(quantity - per_register.get(sid, 0), 0))
              for sid, quantity in sorted(usage.items())]
    line = pricing.usage_line(terms, counts)
    return [line] if line else []


def create_draft(session: Session, user: User, command: CreateInvoice, *, grace_hours: int) -> Invoice:
    """A DRAFT from the period's locked registers. Unlocked registers in the period: 409 naming each (with the
    moment the lock rule will lock it), unless `skip_unlocked`, which bills the locked ones only."""
    with unit_of_work(session):
        require(session, user, "corporate_finance.manage")
        cohort = visible_cohort(session, user, command.cohort_id)
        if not cohort.is_corporate or cohort.agreement_id is None:
            raise ValidationError(N_("Only a corporate cohort can be invoiced."), code="not_corporate")
        agreement = session.get(CorporateAgreement, cohort.agreement_id)
        if agreement is None or terms_of(agreement) is None:
            raise ValidationError(N_("Set the agreement's terms (pricing model, price, currency, tax rate) first."),
                                  code="terms_missing")
        _check_period(cohort, command)
        sessions = _sessions(session, cohort, command.period_from, command.period_to)
        states = lock_states(session, sessions, grace_hours)
        unlocked = [s for s in sessions if not states[s.id].locked]
        if unlocked and not command.skip_unlocked:
            raise UnlockedSessions(
                N_("%(count)s register(s) in this period are not locked yet; wait until they lock, or bill the "
                   "locked ones only (skip_unlocked)."), params={"count": len(unlocked)},
                details=[{"session_id": s.id, "date": s.session_date.isoformat(),
                          "locks_at": states[s.id].cutoff.isoformat()} for s in unlocked])
        locked = [s.id for s in sessions if states[s.id].locked]
        lines = draft_lines(session, cohort, agreement, command.period_from, command.period_to, locked)
        inst = session.get(Institution, cohort.institution_id)
        invoice = Invoice(institution_id=cohort.institution_id, organization_id=cohort.organization_id,
                          agreement_id=agreement.id, cohort_id=cohort.id, status=DRAFT,
                          period_from=command.period_from, period_to=command.period_to, currency=agreement.currency,
                          language=inst.default_language if inst else "en", created_by_id=user.id)
        session.add(invoice)
        session.flush()
        _write_lines(session, invoice, lines)
        audit.record(session, actor_id=user.id, action="invoice.draft", entity_type="invoice", entity_id=invoice.id,
                     after={"cohort_id": cohort.id, "period": [str(command.period_from), str(command.period_to)],
                            "total": invoice.total})
    return invoice


def _write_lines(session: Session, invoice: Invoice, lines: list[DraftLine], reasons: list[str | None] | None = None
                 ) -> None:
    rows = [{"invoice_id": invoice.id, "position": i, "counts": line.counts, "description": line.description,
             "quantity": line.quantity, "unit_price": line.unit_price, "tax_rate": line.tax_rate,
             "amount": line.amount, "tax": line.tax, "period_key": line.period_key,
             "registers": json.dumps([[r.session_id, r.quantity] for r in line.registers]),
             "reason": reasons[i] if reasons else None} for i, line in enumerate(lines)]
    if rows:
        session.execute(InvoiceLine.__table__.insert(), rows)
    invoice.subtotal, invoice.tax, invoice.total = money.totals([(line.amount, line.tax_rate) for line in lines])
    if abs(invoice.total) > money.MAX_MINOR:
        raise ValidationError(N_("The invoice's total is too large."), code="amount_too_large")


def edit_draft(session: Session, user: User, invoice_id: int, command: EditDraft) -> Invoice:
    """Replace a draft's lines (kept lines keep what they count and the registers they rest on)."""
    with unit_of_work(session):
        invoice = managed_invoice(session, user, invoice_id)
        if invoice.status != DRAFT:
            raise Conflict(N_("An issued invoice cannot change; issue a credit note instead."), code="invoice_issued")
        existing = {line.id: line for line in lines_of(session, invoice.id)}
        agreement = session.get(CorporateAgreement, invoice.agreement_id)
        default_rate = agreement.tax_rate if agreement and agreement.tax_rate is not None else 0
        new_lines, reasons = [], []
        for i, sent in enumerate(command.lines):
            where = f"lines[{i}]"
            old = existing.get(sent.id) if sent.id else None
            if sent.id and old is None:
                raise ValidationError(N_("%(field)s names a line that is not on this invoice."), code="unknown_line",
                                      params={"field": where})
            price = money.parse_amount(sent.unit_price, invoice.currency, field=f"{where}.unit_price")
            rate = money.parse_rate(sent.tax_rate, field=f"{where}.tax_rate") if sent.tax_rate else default_rate
            if abs(sent.quantity * price) > money.MAX_MINOR:
                raise ValidationError(N_("%(field)s is too large."), code="amount_too_large", params={"field": where})
            registers = ()
            if old is not None and old.quantity == sent.quantity:
                registers = tuple(RegisterCount(int(s), int(q)) for s, q in json.loads(old.registers or "[]"))
            new_lines.append(DraftLine(old.counts if old else pricing.MANUAL, sent.description, sent.quantity, price,
                                       rate, registers, old.period_key if old else None))
            reasons.append(command.reason)
        session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
        _write_lines(session, invoice, new_lines, reasons)
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
    number back with everything else."""
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
        number = store.next_number(session, inst.id, "invoice", today.year)
        invoice.number = number_text(inst.invoice_prefix or "INV", today.year, number)
        invoice.status, invoice.issued_on, invoice.issued_at = ISSUED, today, clock.now()
        invoice.due_on = today + dt.timedelta(days=inst.payment_terms_days or 0)
        invoice.language = language or invoice.language
        cohort = session.get(Cohort, invoice.cohort_id)
        doc = new_document(session, cohort, user, DocumentKind.INVOICE_PDF, DocumentFormat.PDF, invoice.language)
        invoice.document_id = doc.id
        session.flush()
        jobs.enqueue(session, BUILD_INVOICE, doc.id)
        audit.record(session, actor_id=user.id, action="invoice.issue", entity_type="invoice", entity_id=invoice.id,
                     after={"number": invoice.number, "total": invoice.total, "due_on": str(invoice.due_on)})
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
