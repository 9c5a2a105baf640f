"""Screens and JSON API for registers: request a PDF register (built by a worker), poll it, download it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, url_for

from core import jobs
from core.errors import Conflict
from core.models import DocumentStatus, RegisterDocument
from core.registers import service
from core.registers.jobs import BUILD_PDF

from ..auth import requires, user
from ..extensions import db

bp = Blueprint("registers", __name__)


def document_json(doc: RegisterDocument) -> dict[str, Any]:
    return {"id": doc.id, "session_id": doc.session_id, "kind": doc.kind.value, "status": doc.status.value,
            "status_url": url_for("registers.api_document", document_id=doc.id),
            "download_url": url_for("registers.download", document_id=doc.id)
            if doc.status == DocumentStatus.READY else None,
            "sha256": doc.sha256, "size_bytes": doc.size_bytes, "error": doc.error_message,
            "retry_url": url_for("registers.api_retry_document", document_id=doc.id)
            if doc.status == DocumentStatus.FAILED else None,
            "job": job.as_json() if (job := jobs.describe(db.session, [BUILD_PDF.name], doc.id)) else None}


@bp.post("/api/institution/class-sessions/<int:session_id>/register-documents")
@requires("registers.generate")
def api_request_pdf(session_id: int) -> Any:
    doc = service.request_register_pdf(db.session, user(), session_id)
    return document_json(doc), 202


@bp.post("/institution/attendance/sessions/<int:session_id>/register-pdf")
@requires("registers.generate")
def request_register_pdf(session_id: int) -> Any:
    service.request_register_pdf(db.session, user(), session_id)
    flash("The PDF register is being built; it appears below when ready.", "info")
    return redirect(url_for("attendance.register", session_id=session_id))


@bp.post("/api/institution/register-documents/<int:document_id>/retry")
@requires("registers.generate")
def api_retry_document(document_id: int) -> Any:
    return document_json(service.retry_document(db.session, user(), document_id)), 202


@bp.get("/api/institution/register-documents/<int:document_id>")
@requires("registers.view")
def api_document(document_id: int) -> Any:
    return document_json(service.visible_document(db.session, user(), document_id))


@bp.get("/institution/registers/<int:document_id>/download")
@requires("registers.view")
def download(document_id: int) -> Any:
    doc = service.visible_document(db.session, user(), document_id)
    if doc.status != DocumentStatus.READY or not doc.storage_key:
        raise Conflict("This document is not ready yet.", code="not_ready")
    storage = current_app.extensions["storage"]
    return Response(storage.iter_chunks(doc.storage_key), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="register-{doc.session_id}-{doc.id}.pdf"',
                             "Content-Length": str(doc.size_bytes or 0), "Cache-Control": "private, no-store"})
