"""Invoice and credit-note PDFs, built by a worker with the registers' machinery (core.registers): a register
document row with its own public reference and verification code, the shared verification footer and QR code,
WeasyPrint, in the document's language (English, French, Arabic right to left)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from babel import dates, numbers
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.i18n import N_
from core.models import (
    Cohort,
    CreditNote,
    DocumentFormat,
    DocumentKind,
    Institution,
    Invoice,
    InvoiceLine,
    Organization,
    RegisterDocument,
)
from core.registers import pdf, render
from core.registers.service import BuildSettings, claim_build, document_meta, store_build
from core.storage import PrivateStorage

from . import money
from .statements import PrintedStatement, printed_statement
from .terms import statuses_of

TEMPLATES = (str(Path(__file__).parent / "templates"),)
KINDS = (DocumentKind.INVOICE_PDF, DocumentKind.CREDIT_NOTE_PDF, DocumentKind.STATEMENT_PDF)
TITLES = {DocumentKind.INVOICE_PDF: N_("Invoice"), DocumentKind.CREDIT_NOTE_PDF: N_("Credit note"),
          DocumentKind.STATEMENT_PDF: N_("Statement of account")}


@dataclasses.dataclass(frozen=True)
class PrintedLine:
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    amount: str
    tax: str


@dataclasses.dataclass(frozen=True)
class Printed:
    number: str
    issued_on: str
    due_on: str | None
    invoice_number: str | None
    seller_name: str
    seller_tax_number: str | None
    seller_address: str | None
    bank_details: str | None
    buyer_name: str
    buyer_registration: str | None
    cohort_name: str
    period: str
    lines: list[PrintedLine]
    subtotal: str
    tax: str
    total: str
    reason: str | None
    time_zone: str
    billed_statuses: tuple[str, ...] = ()   # attended-days invoices: the marks counted (stated on the invoice)


def _printed(session: Session, doc: RegisterDocument) -> Printed:
    locale = doc.language.replace("-", "_")
    note = session.scalar(select(CreditNote).where(CreditNote.document_id == doc.id)) \
        if doc.kind == DocumentKind.CREDIT_NOTE_PDF else None
    invoice = session.get(Invoice, note.invoice_id) if note else \
        session.scalar(select(Invoice).where(Invoice.document_id == doc.id))
    if invoice is None:
        raise NotFound(N_("No such invoice."))
    inst = session.get(Institution, invoice.institution_id)
    org = session.get(Organization, invoice.organization_id)
    cohort = session.get(Cohort, invoice.cohort_id)
    assert inst is not None and org is not None and cohort is not None
    cur = invoice.currency

    def day(value: object) -> str:
        return dates.format_date(value, "long", locale=locale) if value else ""

    if note is None:
        lines = [PrintedLine(line.description, numbers.format_decimal(line.quantity, locale=locale),
                             money.display(line.unit_price, cur, locale), f"{money.format_rate(line.tax_rate)} %",
                             money.display(line.amount, cur, locale), money.display(line.tax, cur, locale))
                 for line in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                                             .order_by(InvoiceLine.position, InvoiceLine.id))]
        figures = (invoice.subtotal, invoice.tax, invoice.total)
    else:
        lines = [PrintedLine(note.reason, "1", money.display(note.subtotal, cur, locale), "",
                             money.display(note.subtotal, cur, locale), money.display(note.tax, cur, locale))]
        figures = (note.subtotal, note.tax, note.total)
    return Printed(
        number=note.number if note else (invoice.number or ""),
        issued_on=day(note.issued_on if note else invoice.issued_on), due_on=None if note else day(invoice.due_on),
        invoice_number=invoice.number if note else None, seller_name=inst.legal_name or inst.name,
        seller_tax_number=inst.tax_number, seller_address=inst.billing_address or inst.address,
        bank_details=None if note else inst.bank_details, buyer_name=org.name,
        buyer_registration=org.registration_number, cohort_name=cohort.name,
        period=f"{day(invoice.period_from)} – {day(invoice.period_to)}", lines=lines,
        subtotal=money.display(figures[0], cur, locale), tax=money.display(figures[1], cur, locale),
        total=money.display(figures[2], cur, locale), reason=note.reason if note else None, time_zone=inst.time_zone,
        billed_statuses=() if note else statuses_of(invoice.billed_statuses) if invoice.billed_statuses else ())


def render_pdf(doc: RegisterDocument, printed: Printed | PrintedStatement, meta: render.DocumentMeta,
               translations_dir: str | None) -> bytes:
    words = render.translations(translations_dir, doc.language)
    statement = isinstance(printed, PrintedStatement)
    context = {"f": printed, "title": words.gettext(TITLES[doc.kind]),
               "number": printed.buyer_name if statement else printed.number}  # type: ignore[union-attr]
    html = render.render_document_html("finance_statement.html" if statement else "finance_document.html", context,
                                       meta, translations_dir, TEMPLATES)
    return pdf.html_to_pdf(html)


def build(session: Session, storage: PrivateStorage, document_id: int, settings: BuildSettings
          ) -> RegisterDocument | None:
    """Render and store an invoice's, credit note's or statement's PDF. Idempotent: a READY one is left as it is."""
    doc = session.get(RegisterDocument, document_id)
    if doc is None or doc.kind not in KINDS:
        raise NotFound(N_("No such document."))
    if claim_build(session, document_id) is None:
        return session.get(RegisterDocument, document_id)
    doc = session.get(RegisterDocument, document_id)
    assert doc is not None
    printed = printed_statement(session, doc) if doc.kind == DocumentKind.STATEMENT_PDF else _printed(session, doc)
    meta = document_meta(doc, settings, printed.time_zone)
    session.rollback()  # the data is read: release the snapshot before the slow part
    content = render_pdf(doc, printed, meta, settings.translations_dir)
    return store_build(session, storage, document_id, content, folder="finance", fmt=DocumentFormat.PDF,
                       pages=len(PdfReader(io.BytesIO(content)).pages), version=None)
