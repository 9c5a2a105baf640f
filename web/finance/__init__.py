"""Corporate finance (issue 23): agreement terms, billing details, billing schedules, invoices, credit notes,
payments, statements and exports. Views translate the request, call one use case in core.finance, and answer
JSON shaped by .schemas (or render a screen)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from core.finance import billing, invoices, reads, settlement, statements, terms
from core.finance.commands import (
    CreateCreditNote,
    CreateDrafts,
    CreateInvoice,
    EditDraft,
    InvoiceQuery,
    IssueInvoice,
    RecordPayment,
    StatementRequest,
    UpdateBilling,
    UpdateTerms,
)
from core.models import CorporateAgreement, Invoice, RegisterDocument
from core.registers.service import ready_key

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..downloads import attachment, stream_csv
from ..extensions import db
from ..pagination import query_page
from ..timing import time_answers
from .schemas import (
    BillingOut,
    BillingScheduleOut,
    CreditNoteOut,
    DraftsOut,
    InvoiceOut,
    PaymentOut,
    StatementDocumentOut,
    StatementOut,
    TermsOut,
    present_billing,
    present_credit_note,
    present_invoice,
    present_payment,
    present_schedule,
    present_statement_document,
    present_terms,
)

bp = Blueprint("finance", __name__)
time_answers(bp)  # Server-Timing: the app's own time (bench_invoices reads it)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


def _invoice_json(invoice: Invoice) -> dict[str, Any]:
    return present_invoice(reads.invoice_view(db.session, invoice))


def _terms_json(agreement: CorporateAgreement) -> dict[str, Any]:
    return present_terms(agreement, terms.agreement_defaults(db.session, agreement))


def _pdf(doc: RegisterDocument | None, name: str) -> Response:
    from core.errors import NotFound

    if doc is None:
        raise NotFound("No such document.")
    key = ready_key(doc)
    return Response(current_app.extensions["storage"].iter_chunks(key), mimetype="application/pdf",
                    headers={"Content-Disposition": attachment(f"{name}.pdf"),
                             "Content-Length": str(doc.size_bytes or 0),
                             "Cache-Control": "private, no-store", "X-Content-SHA256": doc.sha256 or ""})


# --- terms and billing details ----------------------------------------------------------------------------------

@bp.patch("/api/corporate-agreements/<int:agreement_id>")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_200=TermsOut))
def api_agreement_terms(agreement_id: int, json: UpdateTerms) -> Any:
    """Change an agreement's commercial terms (an ACTIVE agreement's need a reason, kept in its history)."""
    return _terms_json(terms.update_terms(db.session, user(), agreement_id, json))


@bp.get("/api/corporate-agreements/<int:agreement_id>/terms")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=TermsOut))
def api_agreement_terms_read(agreement_id: int) -> Any:
    """An agreement's commercial terms."""
    return _terms_json(terms.managed_agreement(db.session, user(), agreement_id))


@bp.get("/api/institutions/<int:institution_id>/billing")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=BillingOut))
def api_billing(institution_id: int) -> Any:
    """An institution's billing details (printed on its invoices)."""
    return present_billing(billing.managed_institution(db.session, user(), institution_id))


@bp.patch("/api/institutions/<int:institution_id>/billing")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_200=BillingOut))
def api_billing_update(institution_id: int, json: UpdateBilling) -> Any:
    """Change an institution's billing details (fields left out keep their value)."""
    return present_billing(billing.update_billing(db.session, user(), institution_id, json))


@bp.get("/api/corporate-cohorts/<int:cohort_id>/billing-schedule")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=BillingScheduleOut))
def api_billing_schedule(cohort_id: int) -> Any:
    """Expected billing by date from the terms and the planned sessions, beside what was invoiced so far."""
    return present_schedule(reads.billing_schedule(db.session, user(), cohort_id))


# --- invoices ---------------------------------------------------------------------------------------------------

@bp.post("/api/invoices")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_201=InvoiceOut, HTTP_409=ErrorEnvelope))
def api_invoice_create(json: CreateInvoice) -> Any:
    """Draft an invoice for a corporate cohort and period from its locked registers (409 names unlocked ones)."""
    return _invoice_json(invoices.create_draft(db.session, user(), json, grace_hours=_grace())), 201


@bp.post("/api/invoices/batch")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_201=DraftsOut, HTTP_409=ErrorEnvelope))
def api_invoice_batch(json: CreateDrafts) -> Any:
    """A billing run: draft an invoice per cohort for one period, all or none (409 names unlocked registers)."""
    return {"invoice_ids": invoices.create_drafts(db.session, user(), json, grace_hours=_grace())}, 201


@bp.get("/api/invoices")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=Page[InvoiceOut]))
def api_invoice_list(query: InvoiceQuery) -> Any:
    """Invoices you may see, by organization, cohort, status and issue date (`from`, `to`)."""
    return query_page(reads.invoices_query(db.session, user(), query), query, _invoice_json)


@bp.get("/api/invoices/export.csv")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=None))
def api_invoice_csv(query: InvoiceQuery) -> Any:
    """The invoices of the list's filters as CSV for accountants (text cells cannot run as formulas)."""
    return stream_csv(reads.export_rows(db.session, reads.invoices_query(db.session, user(), query)), "invoices.csv")


@bp.get("/api/invoices/export.xlsx")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=None))
def api_invoice_xlsx(query: InvoiceQuery) -> Any:
    """The invoices of the list's filters as an XLSX workbook (text cells cannot run as formulas)."""
    rows = reads.export_rows(db.session, reads.invoices_query(db.session, user(), query))
    return Response(reads.to_xlsx(rows), mimetype=XLSX, headers={"Content-Disposition": attachment("invoices.xlsx")})


@bp.get("/api/invoices/<int:invoice_id>")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=InvoiceOut))
def api_invoice(invoice_id: int) -> Any:
    """One invoice with its lines, totals, balance and PDF."""
    return _invoice_json(invoices.visible_invoice(db.session, user(), invoice_id))


@bp.patch("/api/invoices/<int:invoice_id>")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_200=InvoiceOut, HTTP_409=ErrorEnvelope))
def api_invoice_edit(invoice_id: int, json: EditDraft) -> Any:
    """Change a draft's lines, with a reason (409 once issued: credit it instead)."""
    return _invoice_json(invoices.edit_draft(db.session, user(), invoice_id, json))


@bp.delete("/api/invoices/<int:invoice_id>")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_204=None, HTTP_409=ErrorEnvelope))
def api_invoice_delete(invoice_id: int) -> Any:
    """Delete a draft (409 once issued)."""
    invoices.delete_draft(db.session, user(), invoice_id)
    return "", 204


@bp.post("/api/invoices/<int:invoice_id>/issue")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_200=InvoiceOut, HTTP_409=ErrorEnvelope))
def api_invoice_issue(invoice_id: int, json: IssueInvoice) -> Any:
    """Issue a draft: the next number of the year, issue and due dates, frozen lines; the PDF follows."""
    return _invoice_json(invoices.issue(db.session, user(), invoice_id, language=json.language))


@bp.get("/api/invoices/<int:invoice_id>/document")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=None, HTTP_409=ErrorEnvelope))
def api_invoice_document(invoice_id: int) -> Any:
    """Download an issued invoice's PDF (409 while it is being built)."""
    invoice = invoices.visible_invoice(db.session, user(), invoice_id)
    doc = db.session.get(RegisterDocument, invoice.document_id) if invoice.document_id else None
    return _pdf(doc, invoice.number or f"invoice-{invoice.id}")


@bp.post("/api/invoices/<int:invoice_id>/credit-notes")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_201=CreditNoteOut, HTTP_409=ErrorEnvelope))
def api_credit_note(invoice_id: int, json: CreateCreditNote) -> Any:
    """Credit an issued invoice, fully or in part (never more than its balance); the PDF follows."""
    note = settlement.credit(db.session, user(), invoice_id, json)
    return present_credit_note(note, db.session.get(RegisterDocument, note.document_id)), 201


@bp.get("/api/credit-notes/<int:note_id>/document")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=None, HTTP_409=ErrorEnvelope))
def api_credit_note_document(note_id: int) -> Any:
    """Download a credit note's PDF (409 while it is being built)."""
    note = reads.visible_credit_note(db.session, user(), note_id)
    return _pdf(db.session.get(RegisterDocument, note.document_id) if note.document_id else None, note.number)


@bp.post("/api/invoices/<int:invoice_id>/payments")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_201=PaymentOut, HTTP_409=ErrorEnvelope))
def api_payment(invoice_id: int, json: RecordPayment) -> Any:
    """Record a payment received (never more than the balance)."""
    payment = settlement.pay(db.session, user(), invoice_id, json)
    invoice = db.session.get(Invoice, invoice_id)
    return present_payment(payment, invoice.currency if invoice else "ZAR"), 201


# --- statements and the client's side ---------------------------------------------------------------------------

def _statement(organization_id: int) -> dict[str, Any]:
    s = reads.statement(db.session, user(), organization_id)
    notes = [present_credit_note(n, db.session.get(RegisterDocument, n.document_id) if n.document_id else None)
             for n in s.credit_notes]
    currency = {i.id: i.currency for i in s.invoices}
    from core.finance import money

    return {"organization_id": s.organization.id, "organization": s.organization.name,
            "invoices": [_invoice_json(i) for i in s.invoices], "credit_notes": notes,
            "payments": [present_payment(p, currency[p.invoice_id]) for p in s.payments],
            "balances": {cur: money.format_amount(v, cur) for cur, v in s.balances.items()}}


@bp.get("/api/organizations/<int:organization_id>/statement")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=StatementOut))
def api_statement(organization_id: int) -> Any:
    """An organization's statement: its issued invoices, credit notes, payments and balance."""
    return _statement(organization_id)


@bp.post("/api/organizations/<int:organization_id>/statement/document")
@requires("corporate_finance.manage")
@contract(resp=responds(HTTP_202=StatementDocumentOut))
def api_statement_pdf(organization_id: int, json: StatementRequest) -> Any:
    """Build the organization's statement as a PDF (the language asked, else the institution's); poll
    `status_url`. Staff who manage finance; the organization's members use /api/org/statement/document."""
    doc = statements.request_statement(db.session, user(), organization_id, json.language)
    return present_statement_document(doc), 202


@bp.post("/api/org/statement/document")
@requires("org_programs.view")  # an organization's members; the service also wants corporate_finance.view
@contract(resp=responds(HTTP_202=StatementDocumentOut))
def api_org_statement_pdf(json: StatementRequest) -> Any:
    """Your organization's statement as a PDF (members of an organization granted corporate_finance.view)."""
    member = user()
    wanted = json.organization_id or next(iter(member.organization_ids or []), 0)
    doc = statements.request_statement(db.session, member, wanted, json.language)
    return present_statement_document(doc), 202


@bp.get("/api/statement-documents/<int:document_id>")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=StatementDocumentOut))
def api_statement_document(document_id: int) -> Any:
    """A statement PDF's status, and its `download_url` once READY."""
    return present_statement_document(statements.visible_statement(db.session, user(), document_id))


@bp.get("/api/statement-documents/<int:document_id>/file")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=None, HTTP_409=ErrorEnvelope))
def api_statement_document_file(document_id: int) -> Any:
    """Download a statement PDF (409 while it is being built)."""
    doc = statements.visible_statement(db.session, user(), document_id)
    return _pdf(doc, f"statement-{doc.reference}")


@bp.get("/api/org/invoices")
@requires("corporate_finance.view")
@contract(resp=responds(HTTP_200=Page[InvoiceOut]))
def api_org_invoices(query: InvoiceQuery) -> Any:
    """Your organization's issued invoices (members of an organization granted corporate_finance.view)."""
    return query_page(reads.invoices_query(db.session, user(), query), query, _invoice_json)


from . import screens  # noqa: E402,F401  (the finance screens register their routes on this blueprint)
