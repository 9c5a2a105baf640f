"""Registers: request a document (built by a worker), poll it, download it, submit it, and verify it.

API: POST /api/registers, GET /api/registers/<id>, GET /api/registers/<id>/download,
POST /api/registers/<id>/retry, POST/GET /api/submissions. Public: GET /verify/<reference>, POST /verify.
The older session-only routes stay and answer the same document JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError as PydanticValidationError

from core.access.scoping import can
from core.errors import ValidationError
from core.fields import PageQuery
from core.models import Cohort, RegisterDocument
from core.pagination import page_count
from core.registers import service, submissions
from core.registers.commands import RequestRegister, SubmitRegister
from core.signatures import reads as signature_reads

from ..auth import requires, user
from ..contract import ErrorEnvelope, contract, responds
from ..extensions import db
from ..i18n import document_language
from ..signatures import sign_off_form_context
from .schemas import RegisterDocumentOut, SubmissionOut, SubmissionPage, present_document, present_submission

bp = Blueprint("registers", __name__)


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


def _request(command: RequestRegister, *, screen: bool = False) -> tuple[RegisterDocument, bool]:
    if command.language is None:
        command = command.model_copy(update={"language": document_language(screen)})
    return service.request_document(db.session, user(), command, grace_hours=_grace())


def _download(doc: RegisterDocument) -> Response:
    key = service.ready_key(doc)
    storage = current_app.extensions["storage"]
    return Response(storage.iter_chunks(key), mimetype=service.MEDIA_TYPES[doc.format],
                    headers={"Content-Disposition": f'attachment; filename="{service.download_name(db.session, doc)}"',
                             "Content-Length": str(doc.size_bytes or 0), "Cache-Control": "private, no-store",
                             "X-Content-SHA256": doc.sha256 or ""})


# --- JSON API --------------------------------------------------------------------------------------------------

@bp.post("/api/registers")
@requires("registers.generate")
@contract(resp=responds(HTTP_202=RegisterDocumentOut, HTTP_200=RegisterDocumentOut))
def api_request(json: RequestRegister) -> Any:
    """Ask for a register document. 202: a new build is queued (poll `status_url`); 200: the same data was
    built already (or is being built), and that document is answered."""
    doc, reused = _request(json)
    return present_document(doc), 200 if reused else 202


@bp.get("/api/institution/register-documents/<int:document_id>")  # the first version's path, kept
@bp.get("/api/registers/<int:document_id>")  # registered first: url_for builds this one
@requires("registers.view")
@contract(resp=responds(HTTP_200=RegisterDocumentOut))
def api_document(document_id: int) -> Any:
    """A register document's status, job and download link."""
    return present_document(service.visible_document(db.session, user(), document_id))


@bp.get("/api/registers/<int:document_id>/download")
@requires("registers.view")
@contract(resp=responds(HTTP_200=None, HTTP_409=ErrorEnvelope))
def api_download(document_id: int) -> Any:
    """Download a built register document (409 while it is not ready)."""
    return _download(service.visible_document(db.session, user(), document_id))


@bp.post("/api/institution/register-documents/<int:document_id>/retry")  # the first version's path, kept
@bp.post("/api/registers/<int:document_id>/retry")
@requires("registers.generate")
@contract(resp=responds(HTTP_202=RegisterDocumentOut, HTTP_409=ErrorEnvelope))
def api_retry(document_id: int) -> Any:
    """Build a FAILED register document again."""
    doc = service.retry_document(db.session, user(), document_id)
    return present_document(doc), 202


@bp.post("/api/submissions")
@requires("registers.submit")
@contract(resp=responds(HTTP_201=SubmissionOut, HTTP_409=ErrorEnvelope))
def api_submit(json: SubmitRegister) -> Any:
    """Submit a built register document (once per document)."""
    return present_submission(submissions.submit(db.session, user(), json, grace_hours=_grace())), 201


@bp.get("/api/submissions")
@requires("registers.view")
@contract(query=PageQuery, resp=responds(HTTP_200=SubmissionPage))
def api_submissions(query: PageQuery) -> Any:
    """Register submissions, newest first."""
    views, total = submissions.list_submissions(db.session, user(), query.page, query.per_page)
    return {"items": [present_submission(v) for v in views], "page": query.page, "per_page": query.per_page,
            "total": total, "pages": page_count(total, query.per_page)}


# The session-only routes of the first version, kept for existing clients.

@bp.post("/api/institution/class-sessions/<int:session_id>/register-documents")
@requires("registers.generate")
@contract(resp=responds(HTTP_202=RegisterDocumentOut, HTTP_200=RegisterDocumentOut))
def api_request_pdf(session_id: int) -> Any:
    """Ask for a session's register PDF (202 while it is built; 200 when it already is)."""
    doc, reused = _request(RequestRegister(kind="session", session_id=session_id, format="pdf"))
    return present_document(doc), 200 if reused else 202



# --- screens ---------------------------------------------------------------------------------------------------

def session_panel(session_id: int) -> dict[str, Any]:
    """What the register screen needs for its documents panel (templates/registers/_panel.html)."""
    if not can(db.session, user(), "registers.view"):
        return {"documents": [], "can_generate": False, "can_submit": False, "show_documents": False}
    documents = service.documents_for_session(db.session, user(), session_id)
    can_submit = can(db.session, user(), "registers.submit")
    return {"documents": [present_document(d) for d in documents], "show_documents": True,
            "can_generate": can(db.session, user(), "registers.generate"), "can_submit": can_submit,
            "submit_blocked": submissions.why_not_submittable(db.session, documents, _grace()) if can_submit else {},
            "request_fields": {"kind": "session", "session_id": session_id}, "doc_language": document_language(True)}


def _command_from_form() -> RequestRegister:
    try:
        return RequestRegister.model_validate({k: v for k, v in request.form.items() if v and k != "csrf_token"})
    except PydanticValidationError as exc:
        raise ValidationError(_("Choose a format and, for a cohort register, a date range."),
                              code="validation_error") from exc


@bp.post("/institution/registers")
@requires("registers.generate")
def request_screen() -> Any:
    command = _command_from_form()
    doc, reused = _request(command, screen=True)
    flash(_("Nothing changed since the last build: that document is ready.") if reused and doc.status.value == "READY"
          else _("The register is being built; it appears below when ready."), "info")
    if command.kind == "session":
        return redirect(url_for("attendance.register", session_id=command.session_id))
    return redirect(url_for("registers.cohort_registers", cohort_id=command.cohort_id))


@bp.post("/institution/attendance/sessions/<int:session_id>/register-pdf")
@requires("registers.generate")
def request_register_pdf(session_id: int) -> Any:
    _request(RequestRegister(kind="session", session_id=session_id, format="pdf"), screen=True)
    flash(_("The PDF register is being built; it appears below when ready."), "info")
    return redirect(url_for("attendance.register", session_id=session_id))


@bp.get("/institution/registers/<int:document_id>/download")
@requires("registers.view")
def download(document_id: int) -> Any:
    return _download(service.visible_document(db.session, user(), document_id))


@bp.get("/institution/cohorts/<int:cohort_id>/registers")
@requires("registers.view")
def cohort_registers(cohort_id: int) -> Any:
    documents = service.documents_for_cohort(db.session, user(), cohort_id)
    cohort = db.session.get(Cohort, cohort_id)
    can_submit = can(db.session, user(), "registers.submit")
    return render_template("registers/cohort.html", cohort=cohort, documents=documents,
                           documents_json=[present_document(d) for d in documents],
                           can_generate=can(db.session, user(), "registers.generate"), can_submit=can_submit,
                           submit_blocked=submissions.why_not_submittable(db.session, documents, _grace())
                           if can_submit else {},
                           doc_language=document_language(True))


@bp.post("/institution/submissions")
@requires("registers.submit")
def submit_screen() -> Any:
    try:
        command = SubmitRegister.model_validate({"register_document_id": request.form.get("register_document_id")})
    except PydanticValidationError as exc:
        raise ValidationError(_("Choose a document to submit."), code="validation_error") from exc
    submissions.submit(db.session, user(), command, grace_hours=_grace())
    flash(_("Submitted. The submission is frozen to this exact file."), "success")
    return redirect(url_for("registers.submissions_screen"))


@bp.get("/institution/submissions")
@requires("registers.view")
def submissions_screen() -> Any:
    try:
        page = max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        page = 1
    views, total = submissions.list_submissions(db.session, user(), page, 50)
    sign_offs = signature_reads.latest_submission_sign_offs(db.session, [v.id for v in views], _grace())
    return render_template("registers/submissions.html", submissions=views, page=page,
                           pages=page_count(total, 50), total=total, sign_offs=sign_offs,
                           can_submit=can(db.session, user(), "registers.submit"), **sign_off_form_context())


from . import verify  # noqa: E402,F401  (the public verification views, on this blueprint)
