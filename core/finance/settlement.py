"""What happens to an issued invoice: credit notes (full or partial, their own gap-free sequence and PDF),
payments recorded by hand, and the nightly overdue run (idempotent; the organization's contact is mailed once).

An invoice's balance is total − paid − credited and never goes below zero: over-crediting and overpaying are
refused (and the database's check refuses them too)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, lazyload

from core import audit, clock, jobs, mail
from core.errors import Conflict
from core.i18n import N_, Words, reader_language, words
from core.models import (
    Cohort,
    CreditNote,
    DocumentFormat,
    DocumentKind,
    Institution,
    Invoice,
    Organization,
    Payment,
    User,
)
from core.registers.service import new_document
from core.uow import unit_of_work

from . import money, store
from .commands import CreateCreditNote, RecordPayment
from .invoices import BILLED, DRAFT, OVERDUE, managed_invoice, number_text, status_after
from .jobs import BUILD_INVOICE

log = logging.getLogger(__name__)
CREDIT_PREFIX = "CN"


def _not_draft(invoice: Invoice) -> None:
    if invoice.status == DRAFT:
        raise Conflict(N_("This invoice is a draft: edit or delete it instead."), code="invoice_draft")


def credit(session: Session, user: User, invoice_id: int, command: CreateCreditNote) -> CreditNote:
    """A credit note for `amount` (tax included; absent: the whole balance), split into net and tax in the
    invoice's proportion (half up), numbered in its own sequence, its PDF queued."""
    with unit_of_work(session):
        invoice = managed_invoice(session, user, invoice_id)
        _not_draft(invoice)
        balance = invoice.balance
        amount = balance if command.amount is None else money.parse_amount(command.amount, invoice.currency,
                                                                            allow_zero=False)
        if amount <= 0:
            raise Conflict(N_("Nothing is left to credit on this invoice."), code="nothing_to_credit")
        if amount > balance:
            raise money.refuse("amount", N_("A credit note cannot exceed the invoice's balance (%(balance)s)."),
                               "over_credit", balance=money.format_amount(balance, invoice.currency))
        tax = money.half_up(amount * invoice.tax, invoice.total) if invoice.total else 0
        inst = session.get(Institution, invoice.institution_id)
        assert inst is not None
        today = clock.today_in(inst.time_zone)
        cohort = session.get(Cohort, invoice.cohort_id, options=[lazyload("*")])
        doc = new_document(session, cohort, user, DocumentKind.CREDIT_NOTE_PDF, DocumentFormat.PDF, invoice.language)
        jobs.enqueue(session, BUILD_INVOICE, doc.id)
        invoice.credited += amount
        invoice.status = status_after(invoice, today)
        session.flush()
        # The number last: the credit-note counter stays locked from here to the commit (see invoices.issue).
        number = store.next_number(session, inst.id, "credit_note", today.year)
        note = CreditNote(institution_id=inst.id, invoice_id=invoice.id,
                          number=number_text(f"{CREDIT_PREFIX}{inst.invoice_prefix or ''}", today.year, number),
                          issued_on=today, currency=invoice.currency, subtotal=amount - tax, tax=tax, total=amount,
                          reason=command.reason, document_id=doc.id, created_by_id=user.id)
        session.add(note)
        session.flush()
        audit.record(session, actor_id=user.id, action="invoice.credit", entity_type="invoice", entity_id=invoice.id,
                     after={"credit_note": note.number, "amount": amount}, context={"reason": command.reason})
    return note


def pay(session: Session, user: User, invoice_id: int, command: RecordPayment) -> Payment:
    with unit_of_work(session):
        invoice = managed_invoice(session, user, invoice_id)
        _not_draft(invoice)
        amount = money.parse_amount(command.amount, invoice.currency, allow_zero=False)
        if amount > invoice.balance:
            raise money.refuse("amount", N_("A payment cannot exceed the invoice's balance (%(balance)s)."),
                               "overpayment", balance=money.format_amount(invoice.balance, invoice.currency))
        inst = session.get(Institution, invoice.institution_id)
        assert inst is not None
        today = clock.today_in(inst.time_zone)
        if command.paid_on > today:
            raise money.refuse("paid_on", N_("A payment cannot be dated in the future."), "paid_in_future")
        payment = Payment(invoice_id=invoice.id, amount=amount, paid_on=command.paid_on, reference=command.reference,
                          recorded_by_id=user.id)
        session.add(payment)
        invoice.paid += amount
        invoice.status = status_after(invoice, today)
        session.flush()
        audit.record(session, actor_id=user.id, action="invoice.payment", entity_type="invoice", entity_id=invoice.id,
                     after={"amount": amount, "paid_on": str(command.paid_on), "status": invoice.status})
    return payment


# --- the nightly overdue run ------------------------------------------------------------------------------------

Sender = Callable[[mail.MailSettings, EmailMessage], None]


@dataclass
class OverdueReport:
    marked: list[int] = field(default_factory=list)
    mailed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"marked": len(self.marked), "mailed": len(self.mailed), "failed": len(self.failed)}


def mark_overdue(session: Session, settings: mail.MailSettings, *, send: Sender = mail.send,
                 translations: str | None = None) -> OverdueReport:
    """Issued or partly paid invoices past their due date (the institution's today) become overdue, in one
    UPDATE per institution; then each overdue invoice whose organization was not told yet is claimed
    (overdue_notified_at set where it is NULL) and its contact mailed in their language (`translations`: the
    catalogues' folder). Run twice, it changes nothing."""
    report = OverdueReport()
    with unit_of_work(session):
        zones = session.execute(select(Institution.id, Institution.time_zone)).all()
        for institution_id, zone in zones:
            today = clock.today_in(zone)
            report.marked += list(session.scalars(update(Invoice).where(
                Invoice.institution_id == institution_id, Invoice.status.in_(("issued", "partly_paid")),
                Invoice.due_on < today).values(status=OVERDUE).returning(Invoice.id)))
    due = session.execute(select(Invoice, Organization, Institution.default_language)
                          .join(Organization, Organization.id == Invoice.organization_id)
                          .join(Institution, Institution.id == Invoice.institution_id)
                          .where(Invoice.status == OVERDUE, Invoice.overdue_notified_at.is_(None))).all()
    languages = _contact_languages(session, {org.contact_email for _i, org, _l in due if org.contact_email})
    for invoice, org, institution_language in due:
        with unit_of_work(session):
            claimed = session.execute(update(Invoice).where(Invoice.id == invoice.id,
                                                            Invoice.overdue_notified_at.is_(None))
                                      .values(overdue_notified_at=clock.now())).rowcount
        if not claimed or not org.contact_email:
            continue
        try:
            reader = words(translations, recipient_language(languages.get(org.contact_email.lower()),
                                                            invoice.language, institution_language))
            send(settings, overdue_message(settings, org.contact_email, invoice, reader))
            report.mailed.append(invoice.id)
        except Exception as exc:
            log.warning("overdue mail for invoice %s failed: %s", invoice.id, exc)
            with unit_of_work(session):
                session.execute(update(Invoice).where(Invoice.id == invoice.id).values(overdue_notified_at=None))
            report.failed.append(invoice.id)
    return report


def _contact_languages(session: Session, emails: set[str]) -> dict[str, str | None]:
    """The language each contact address chose, where it is also a user's sign-in (one query)."""
    if not emails:
        return {}
    rows = session.execute(select(User.email, User.language).where(
        func.lower(User.email).in_([e.lower() for e in emails]))).all()
    return {email.lower(): language for email, language in rows}


def recipient_language(own: str | None, invoice_language: str | None, institution_language: str | None) -> str:
    """The contact's own language (when they have an account), else the language their invoice was issued in,
    else the institution's default, else English."""
    return reader_language(own, reader_language(invoice_language, institution_language))


def overdue_message(settings: mail.MailSettings, to: str, invoice: Invoice, reader: Words) -> EmailMessage:
    balance = money.display(invoice.balance, invoice.currency, reader.language)
    subject = reader.gettext(N_("Invoice %(number)s is overdue"), number=invoice.number or "")
    text = reader.gettext(N_("Invoice %(number)s of %(issued_on)s was due on %(due_on)s.\nBalance: %(balance)s.\n"),
                          number=invoice.number or "", issued_on=reader.date(invoice.issued_on, "long")
                          if invoice.issued_on else "", due_on=reader.date(invoice.due_on, "long")
                          if invoice.due_on else "", balance=balance)
    return mail.build_message(settings, to, subject, text)


def billed_statuses() -> tuple[str, ...]:
    return BILLED


def today_for(session: Session, institution_id: int) -> dt.date:
    inst = session.get(Institution, institution_id)
    return clock.today_in(inst.time_zone if inst else "UTC")
