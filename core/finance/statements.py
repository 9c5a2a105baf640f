"""An organization's statement as a PDF: its issued invoices, credit notes, payments and balance, built by a worker
through the same document pipeline as invoices (a register document with its own reference and verification
code, WeasyPrint, English, French or Arabic). The document belongs to the organization (no cohort)."""

from __future__ import annotations

import dataclasses

from babel import dates
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from core import clock, jobs
from core.access.scoping import require
from core.errors import NotFound
from core.i18n import LANGUAGES, N_
from core.models import (
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    Institution,
    Organization,
    RegisterDocument,
    User,
)
from core.uow import unit_of_work

from . import money
from .jobs import BUILD_INVOICE
from .reads import statement_of, visible_organization


def request_statement(session: Session, user: User, organization_id: int, language: str | None) -> RegisterDocument:
    """Queue the statement PDF of an organization the user may see (404 otherwise), in `language` (absent: the
    institution's default)."""
    with unit_of_work(session):
        require(session, user, "corporate_finance.view")
        org = visible_organization(session, user, organization_id)
        inst = session.get(Institution, org.institution_id)
        assert inst is not None
        chosen = language if language in LANGUAGES else inst.default_language or "en"
        doc = RegisterDocument(institution_id=org.institution_id, cohort_id=None, organization_id=org.id,
                               kind=DocumentKind.STATEMENT_PDF, format=DocumentFormat.PDF, language=chosen,
                               status=DocumentStatus.PENDING, requested_by_id=user.id)
        session.add(doc)
        session.flush()
        jobs.enqueue(session, BUILD_INVOICE, doc.id)
    return doc


def visible_statement(session: Session, user: User, document_id: int) -> RegisterDocument:
    """A statement document of an organization the user may see; 404 for anything else."""
    doc = session.get(RegisterDocument, document_id)
    if doc is None or doc.kind != DocumentKind.STATEMENT_PDF or doc.organization_id is None:
        raise NotFound(N_("No such document."))
    visible_organization(session, user, doc.organization_id)
    return doc


@dataclasses.dataclass(frozen=True)
class StatementRow:
    day: str
    what: str          # "invoice", "credit_note", "payment": the template words it
    reference: str
    amount: str
    balance: str | None


@dataclasses.dataclass(frozen=True)
class PrintedStatement:
    seller_name: str
    seller_tax_number: str | None
    seller_address: str | None
    buyer_name: str
    as_of: str
    rows: list[StatementRow]
    balances: list[str]
    time_zone: str


def printed_statement(session: Session, doc: RegisterDocument) -> PrintedStatement:
    """What the statement prints, in the document's language: every issued invoice with its remaining balance,
    each credit note and payment under it, and the balance owed by currency."""
    org = session.get(Organization, doc.organization_id) if doc.organization_id else None
    if org is None:
        raise NotFound(N_("No such organization."))
    inst = session.get(Institution, org.institution_id)
    assert inst is not None
    locale = doc.language.replace("-", "_")
    found = statement_of(session, org, true())
    notes = {n.invoice_id: [] for n in found.credit_notes}
    for n in found.credit_notes:
        notes[n.invoice_id].append(n)
    paid = {p.invoice_id: [] for p in found.payments}
    for p in found.payments:
        paid[p.invoice_id].append(p)
    rows = []
    for invoice in found.invoices:
        cur = invoice.currency
        rows.append(StatementRow(dates.format_date(invoice.issued_on, "medium", locale=locale), "invoice",
                                 invoice.number or "", money.display(invoice.total, cur, locale),
                                 money.display(invoice.balance, cur, locale)))
        rows += [StatementRow(dates.format_date(n.issued_on, "medium", locale=locale), "credit_note", n.number,
                              money.display(-n.total, cur, locale), None) for n in notes.get(invoice.id, [])]
        rows += [StatementRow(dates.format_date(p.paid_on, "medium", locale=locale), "payment", p.reference or "",
                              money.display(-p.amount, cur, locale), None) for p in paid.get(invoice.id, [])]
    return PrintedStatement(
        seller_name=inst.legal_name or inst.name, seller_tax_number=inst.tax_number,
        seller_address=inst.billing_address or inst.address, buyer_name=org.name,
        as_of=dates.format_date(clock.today_in(inst.time_zone), "long", locale=locale), rows=rows,
        balances=[money.display(v, cur, locale) for cur, v in sorted(found.balances.items())],
        time_zone=inst.time_zone)


def statement_documents(session: Session, organization_id: int) -> list[RegisterDocument]:
    return list(session.scalars(select(RegisterDocument).where(
        RegisterDocument.organization_id == organization_id, RegisterDocument.kind == DocumentKind.STATEMENT_PDF)
        .order_by(RegisterDocument.id.desc()).limit(20)))
