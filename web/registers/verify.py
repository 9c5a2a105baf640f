"""Public verification: GET /verify/<reference>, POST /verify (a file), and the same as JSON under /api/verify.

Says who issued a document and whether a file's seal is the issuing institution's and unchanged, in words.
Bad files (not a PDF, encrypted, scripts, external references, a broken signature, too large) get a 4xx and a
page (or a JSON error) saying why, never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_babel import gettext as _

from core.errors import DomainError, ValidationError
from core.i18n import N_
from core.registers import verification

from ..auth import public
from ..contract import ErrorEnvelope, contract, responds
from ..extensions import db
from ..i18n import translated_message
from . import bp
from .schemas import PdfUpload, VerificationOut, present_verification, seal_message


@bp.context_processor
def _seal_words() -> dict[str, Any]:
    return {"seal_message": seal_message}


def _max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def _by_reference(text: str) -> verification.Verification:
    return verification.check_reference(db.session, current_app.extensions["storage"], text[:40])


def _uploaded() -> verification.Verification:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(N_("Choose the PDF file to check."), code="file_missing",
                              details=[{"field": "file", "message": "required"}])
    return verification.check_upload(db.session, verification.read_upload(upload.stream, _max_bytes()))


@bp.get("/verify/<reference>")
@public
def verify_reference(reference: str) -> Any:
    """A reference (the footer, the QR code) or the verification code printed on the document."""
    result = _by_reference(reference)
    return render_template("registers/verify.html", reference=reference[:40], found=result.found, seal=result.seal,
                           checked="reference"), 200 if result.found else 404


@bp.route("/verify", methods=["GET", "POST"])
@public
def verify_upload() -> Any:
    if request.method == "GET":
        typed = request.args.get("reference", "").strip()[:40]
        if typed:
            return verify_reference(typed)
        return render_template("registers/verify.html", found=None, checked=None)
    try:
        result = _uploaded()
    except DomainError as exc:  # a page in words with its 4xx, not a redirect: nothing was stored to go back to
        return render_template("registers/verify.html", found=None, checked=None,
                               error=translated_message(exc)), exc.http_status
    upload = request.files["file"]
    return render_template("registers/verify.html", found=result.found, seal=result.seal, checked="file",
                           uploaded_sha256=result.sha256, filename=(upload.filename or "")[:200],
                           exact=result.found is not None and result.found.sha256 == result.sha256)


@bp.get("/api/verify/<reference>")
@public
@contract(resp=responds(HTTP_200=VerificationOut, HTTP_404=ErrorEnvelope))
def api_verify_reference(reference: str) -> Any:
    """Who issued the document with this reference (or verification code), and its seal in words."""
    result = _by_reference(reference)
    if result.found is None:
        return {"error": {"code": "not_found", "message": _(
            "No issued register has the reference or verification code %(reference)s.", reference=reference[:40])}}, 404
    return present_verification(result)


@bp.post("/api/verify")
@public
@contract(form=PdfUpload, resp=responds(HTTP_200=VerificationOut, HTTP_413=ErrorEnvelope))
def api_verify_upload() -> Any:
    """Check a file (multipart field `file`): the issued document it is, and its seal in words. Not a PDF,
    encrypted, with JavaScript or external references, or with a broken signature: 422 saying why."""
    return present_verification(_uploaded())
