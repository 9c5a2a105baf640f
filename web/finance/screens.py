"""Finance screens: an agreement's terms, the institution's billing details, invoice lists (staff and the client
organization's), an invoice's page with its credit notes and payments, and the forms that issue, credit and
record a payment. Each form posts with its CSRF token to one use case and comes back to the invoice's page with
a flash; a refused value comes back the same way with the reason (web.errors)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel

from core.finance import billing, invoices, reads, settlement, terms
from core.finance.commands import (
    CreateCreditNote,
    InvoiceQuery,
    IssueInvoice,
    RecordPayment,
    UpdateBilling,
    UpdateTerms,
)
from core.i18n import LANGUAGES
from core.models import RegisterDocument

from ..auth import requires, user
from ..extensions import db
from ..forms import form_data
from ..i18n import current_language
from ..pagination import query_page
from . import _invoice_json, _terms_json, bp
from .schemas import present_billing, present_credit_note, present_payment

M = TypeVar("M", bound=BaseModel)


def _form(model: type[M]) -> M:
    """The posted form as `model`, fields left empty left out (an empty credit amount: the whole balance)."""
    return model.model_validate({k: v for k, v in form_data().items() if str(v).strip()})


def _id_arg(name: str) -> int | None:
    wanted = request.values.get(name, "")
    return int(wanted) if wanted.isdigit() and len(wanted) < 10 else None


@bp.get("/admin/corporate-agreements/<int:agreement_id>/terms")
@requires("corporate_finance.view")
def agreement_terms(agreement_id: int) -> Any:
    agreement = terms.managed_agreement(db.session, user(), agreement_id)
    return render_template("finance/terms.html", agreement=agreement, t=_terms_json(agreement),
                           history=terms.terms_history(db.session, agreement.id))


@bp.post("/admin/corporate-agreements/<int:agreement_id>/terms")
@requires("corporate_finance.manage")
def agreement_terms_save(agreement_id: int) -> Any:
    sent: dict[str, Any] = {k: v.strip() for k, v in request.form.items()
                            if k not in ("csrf_token", "billable_statuses", "statuses_shown") and v.strip()}
    if request.form.get("statuses_shown"):  # the form's tick boxes: none ticked is refused (422), not "bill nothing"
        sent["billable_statuses"] = request.form.getlist("billable_statuses")
    terms.update_terms(db.session, user(), agreement_id, UpdateTerms.model_validate(sent))
    flash(_("The terms are saved."), "success")
    return redirect(url_for("finance.agreement_terms", agreement_id=agreement_id))


@bp.get("/admin/billing")
@requires("corporate_finance.view")
def billing_details() -> Any:
    inst = billing.billing_institution(db.session, user(), _id_arg("institution_id"))
    return render_template("finance/billing.html", b=present_billing(inst))


@bp.post("/admin/billing")
@requires("corporate_finance.manage")
def billing_details_save() -> Any:
    sent = {k: v.strip() for k, v in request.form.items() if k not in ("csrf_token", "institution_id")}
    sent = {k: (v or None) for k, v in sent.items() if v or k not in ("invoice_prefix", "payment_terms_days")}
    institution_id = billing.billing_institution(db.session, user(), _id_arg("institution_id")).id
    billing.update_billing(db.session, user(), institution_id, UpdateBilling.model_validate(sent))
    flash(_("The billing details are saved."), "success")
    return redirect(url_for("finance.billing_details", institution_id=institution_id))


# --- invoices ---------------------------------------------------------------------------------------------------

def _list(detail: str) -> Any:
    query = InvoiceQuery.model_validate({k: v for k, v in request.args.items() if v})
    page = query_page(reads.invoices_query(db.session, user(), query), query, _invoice_json)
    return render_template("finance/invoices.html", page=page, query=query, language=current_language(),
                           detail=detail)


@bp.get("/admin/invoices")
@requires("corporate_finance.view")
def invoice_list() -> Any:
    return _list("finance.invoice_page")


@bp.get("/org/invoices")
@requires("corporate_finance.view")
def org_invoice_list() -> Any:
    return _list("finance.org_invoice_page")


def _page(invoice_id: int, back: str) -> Any:
    invoice = invoices.visible_invoice(db.session, user(), invoice_id)
    notes = reads.credit_notes_of(db.session, [invoice.id])
    documents = {n.id: db.session.get(RegisterDocument, n.document_id) if n.document_id else None for n in notes}
    return render_template(
        "finance/invoice.html", i=_invoice_json(invoice), back=back, languages=LANGUAGES,
        notes=[present_credit_note(n, documents[n.id]) for n in notes],
        payments=[present_payment(p, invoice.currency) for p in reads.payments_of(db.session, [invoice.id])],
        today=settlement.today_for(db.session, invoice.institution_id),
        payable=invoice.status != invoices.DRAFT and invoice.balance > 0)


@bp.get("/admin/invoices/<int:invoice_id>")
@requires("corporate_finance.view")
def invoice_page(invoice_id: int) -> Any:
    return _page(invoice_id, "finance.invoice_list")


@bp.get("/org/invoices/<int:invoice_id>")
@requires("corporate_finance.view")
def org_invoice_page(invoice_id: int) -> Any:
    return _page(invoice_id, "finance.org_invoice_list")


def _back(invoice_id: int) -> Any:
    return redirect(url_for("finance.invoice_page", invoice_id=invoice_id))


@bp.post("/admin/invoices/<int:invoice_id>/issue")
@requires("corporate_finance.manage")
def invoice_issue(invoice_id: int) -> Any:
    command = _form(IssueInvoice)
    invoice = invoices.issue(db.session, user(), invoice_id, language=command.language)
    flash(_("Invoice %(number)s is issued; its PDF is being built.", number=invoice.number), "success")
    return _back(invoice_id)


@bp.post("/admin/invoices/<int:invoice_id>/delete")
@requires("corporate_finance.manage")
def invoice_delete(invoice_id: int) -> Any:
    invoices.delete_draft(db.session, user(), invoice_id)
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("finance.invoice_list"))


@bp.post("/admin/invoices/<int:invoice_id>/credit-notes")
@requires("corporate_finance.manage")
def invoice_credit(invoice_id: int) -> Any:
    note = settlement.credit(db.session, user(), invoice_id, _form(CreateCreditNote))
    flash(_("Credit note %(number)s is issued; its PDF is being built.", number=note.number), "success")
    return _back(invoice_id)


@bp.post("/admin/invoices/<int:invoice_id>/payments")
@requires("corporate_finance.manage")
def invoice_payment(invoice_id: int) -> Any:
    settlement.pay(db.session, user(), invoice_id, _form(RecordPayment))
    flash(_("The payment is recorded."), "success")
    return _back(invoice_id)
