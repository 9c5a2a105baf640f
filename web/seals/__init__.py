"""An institution's document seal: the admin screen (/admin/seal) and API (/api/institutions/<id>/seal).

Admins manage their own institution's seal, super admins any; another tenant's answers 404. The private key is
never shown, returned or logged: only the certificate's subject, validity and SHA-256 fingerprint.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.errors import ValidationError
from core.i18n import N_
from core.seals import service as seals

from ..auth import requires, user
from ..contract import ErrorEnvelope, contract, responds
from ..extensions import db
from .schemas import SealsOut, SealUpload, present_seals

bp = Blueprint("seals", __name__)
MAX_PKCS12_BYTES = 256 * 1024


def _upload_fields() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(N_("Choose the PKCS#12 file (.p12 or .pfx) to upload."), code="file_missing",
                              details=[{"field": "file", "message": "required"}])
    return upload.stream.read(MAX_PKCS12_BYTES + 1), request.form.get("password", "")[:1000]


def _answer(institution_id: int) -> dict[str, object]:
    return present_seals(institution_id, seals.history(db.session, institution_id))


# --- API ---------------------------------------------------------------------------------------------------------

@bp.get("/api/institutions/<int:institution_id>/seal")
@requires("seals.manage")
@contract(resp=responds(HTTP_200=SealsOut))
def api_seal(institution_id: int) -> Any:
    """The institution's seal in force and its history (certificates only: never a private key)."""
    inst = seals.managed_institution(db.session, user(), institution_id)
    seals.ensure_seal(db.session, inst.id)
    return _answer(inst.id)


@bp.post("/api/institutions/<int:institution_id>/seal")
@requires("seals.manage")
@contract(form=SealUpload, resp=responds(HTTP_201=SealsOut, HTTP_413=ErrorEnvelope))
def api_seal_upload(institution_id: int) -> Any:
    """Put an uploaded PKCS#12 (multipart `file` and `password`) in force. Refused with the reason: not
    PKCS#12, wrong password, expired, a key that does not match its certificate. The replaced seal is kept."""
    content, password = _upload_fields()
    seals.upload(db.session, user(), institution_id, content, password)
    return _answer(institution_id), 201


@bp.post("/api/institutions/<int:institution_id>/seal/regenerate")
@requires("seals.manage")
@contract(resp=responds(HTTP_201=SealsOut))
def api_seal_regenerate(institution_id: int) -> Any:
    """Replace the seal in force by a newly generated one (ECDSA P-256, five years). The replaced one is kept."""
    seals.regenerate(db.session, user(), institution_id)
    return _answer(institution_id), 201


# --- screen ------------------------------------------------------------------------------------------------------

def _wanted() -> int | None:
    wanted = request.values.get("institution_id", "")
    return int(wanted) if wanted.isdigit() and len(wanted) < 10 else None


@bp.get("/admin/seal")
@requires("seals.manage")
def seal_screen() -> Any:
    inst = seals.managed_institution(db.session, user(), _wanted())
    seals.ensure_seal(db.session, inst.id)
    return render_template("seals/seal.html", institution=inst, seals=_answer(inst.id))


@bp.post("/admin/seal")
@requires("seals.manage")
def seal_upload_screen() -> Any:
    inst = seals.managed_institution(db.session, user(), _wanted())
    content, password = _upload_fields()
    seals.upload(db.session, user(), inst.id, content, password)
    flash(_("The uploaded seal is in force. Documents sealed before keep verifying with the seal they carry."),
          "success")
    return redirect(url_for("seals.seal_screen", institution_id=inst.id))


@bp.post("/admin/seal/regenerate")
@requires("seals.manage")
def seal_regenerate_screen() -> Any:
    inst = seals.managed_institution(db.session, user(), _wanted())
    seals.regenerate(db.session, user(), inst.id)
    flash(_("A new seal is in force. Documents sealed before keep verifying with the seal they carry."), "success")
    return redirect(url_for("seals.seal_screen", institution_id=inst.id))
