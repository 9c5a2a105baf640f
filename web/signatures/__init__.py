"""Signatures on registers: sign-offs (a facilitator's of a session; a provider's of a register document or a
submission), learners' drawn signatures on the register screen, and reading them. Never changed: there is no
update or delete route. Sign-offs need a fresh password confirmation (core.access.confirmation): screens
confirm it on the register screen (its time kept in the Flask session for 5 minutes), tokens send `password`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from core import clock
from core.access.confirmation import PasswordConfirmationRequired, confirm_password, is_fresh
from core.signatures import learners, reads, sign_offs
from core.signatures.commands import LearnerSignatureCommand, SignOffCommand

from ..auth import requires, user
from ..contract import ErrorEnvelope, contract, responds
from ..downloads import attachment
from ..extensions import db
from .schemas import (
    LearnerSignatureOut,
    SessionSignaturesOut,
    SignOffList,
    SignOffOut,
    present_learner,
    present_session,
    present_sign_off,
)

bp = Blueprint("signatures", __name__)

CONFIRMED_AT = "password_confirmed_at"   # Flask session key: when the password was last re-entered (ISO, UTC)
SIGN_OFF_ERRORS = responds(HTTP_201=SignOffOut, HTTP_403=ErrorEnvelope, HTTP_404=ErrorEnvelope,
                           HTTP_409=ErrorEnvelope, HTTP_422=ErrorEnvelope)


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


def _confirmed_at() -> dt.datetime | None:
    """When this browser session last confirmed the password; API tokens never have one (they send `password`)."""
    if g.get("token_auth"):
        return None
    raw = session.get(CONFIRMED_AT)
    try:
        return dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _sign(action: Any, subject_id: int, command: SignOffCommand) -> Any:
    if not g.get("token_auth") and command.password is not None:  # a browser confirming here: remember it
        confirm_password(db.session, user(), command.password, None)
        session[CONFIRMED_AT] = clock.now().isoformat()
    view = action(db.session, user(), subject_id, command, confirmed_at=_confirmed_at(),
                  ip_address=request.remote_addr)
    return present_sign_off(view), 201


# --- screens ---------------------------------------------------------------------------------------------------

@bp.post("/institution/attendance/sessions/<int:session_id>/sign-off")
@requires("attendance.mark")
def sign_off_screen(session_id: int) -> Any:
    """The register screen's sign-off form: the password re-entered (remembered 5 minutes), the name, sign."""
    return _sign_on_screen(sign_offs.sign_off_session, session_id,
                           url_for("attendance.register", session_id=session_id) + "#sign-off",
                           _("Register signed. A later change of a mark voids this sign-off until it is signed again."))


@bp.post("/institution/submissions/<int:submission_id>/sign-off")
@requires("registers.submit")
def sign_off_submission_screen(submission_id: int) -> Any:
    """The submissions screen's provider sign-off form (an admin's), the same way."""
    return _sign_on_screen(sign_offs.sign_off_submission, submission_id, url_for("registers.submissions_screen"),
                           _("Submission signed for the provider."))


def _sign_on_screen(action: Any, subject_id: int, back_url: str, done: str) -> Any:
    password = request.form.get("password") or None
    try:
        if password is not None:
            confirm_password(db.session, user(), password, None)
            session[CONFIRMED_AT] = clock.now().isoformat()
        command = SignOffCommand.model_validate({"full_name": request.form.get("full_name", ""),
                                                 "signature": request.form.get("signature") or None})
        action(db.session, user(), subject_id, command, confirmed_at=_confirmed_at(), ip_address=request.remote_addr)
    except PasswordConfirmationRequired as exc:
        flash(_(exc.template), "danger")
        return redirect(back_url)
    flash(done, "success")
    return redirect(back_url)


def sign_off_form_context() -> dict[str, Any]:
    """What a sign-off form needs: whether this browser session confirmed its password within 5 minutes."""
    return {"confirmation_fresh": is_fresh(_confirmed_at())}


# --- JSON API --------------------------------------------------------------------------------------------------

@bp.post("/api/institution/class-sessions/<int:session_id>/sign-off")
@requires("attendance.mark")
@contract(resp=SIGN_OFF_ERRORS)
def api_sign_off_session(session_id: int, json: SignOffCommand) -> Any:
    """Sign an ended session's register (its facilitator or an admin), with a fresh password confirmation:
    API tokens send `password`; a browser session confirmed within 5 minutes needs none."""
    return _sign(sign_offs.sign_off_session, session_id, json)


@bp.get("/api/institution/class-sessions/<int:session_id>/signatures")
@requires("attendance.view")
@contract(resp=responds(HTTP_200=SessionSignaturesOut))
def api_session_signatures(session_id: int) -> Any:
    """The session's sign-offs (newest first, each void or not) and its learners' signatures."""
    return present_session(reads.session_signatures(db.session, user(), session_id))


@bp.post("/api/institution/class-sessions/<int:session_id>/trainees/<int:trainee_id>/signature")
@requires("attendance.mark")
@contract(resp=responds(HTTP_201=LearnerSignatureOut, HTTP_409=ErrorEnvelope, HTTP_413=ErrorEnvelope,
                        HTTP_422=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_sign_row(session_id: int, trainee_id: int, json: LearnerSignatureCommand) -> Any:
    """A learner's drawn signature on their own row (PNG data URL from the signature pad), once."""
    row = learners.sign_row(db.session, user(), current_app.extensions["storage"], session_id, trainee_id, json,
                            ip_address=request.remote_addr, grace_hours=_grace())
    return present_learner(reads.LearnerSignatureView(row.member_id, "drawn", row.signed_at, row.id)), 201


@bp.get("/api/institution/learner-signatures/<int:signature_id>")
@requires("attendance.view")
@contract(resp=responds(HTTP_200=None))
def api_signature_image(signature_id: int) -> Any:
    """A drawn signature (PNG), to whoever may see its register."""
    row = reads.signature_file(db.session, user(), signature_id)
    storage = current_app.extensions["storage"]
    return Response(storage.iter_chunks(row.storage_key), mimetype=row.content_type,
                    headers={"Content-Disposition": attachment(f"signature-{row.id}.png"),
                             "Content-Length": str(row.size_bytes), "Cache-Control": "private, no-store"})


@bp.post("/api/registers/<int:document_id>/sign-off")
@requires("registers.submit")
@contract(resp=SIGN_OFF_ERRORS)
def api_sign_off_document(document_id: int, json: SignOffCommand) -> Any:
    """The provider's sign-off (an admin's) of a finished register document, with a fresh password confirmation."""
    return _sign(sign_offs.sign_off_document, document_id, json)


@bp.get("/api/registers/<int:document_id>/sign-offs")
@requires("registers.view")
@contract(resp=responds(HTTP_200=SignOffList))
def api_document_sign_offs(document_id: int) -> Any:
    """The document's provider sign-offs, newest first (void once its data changed)."""
    views = reads.document_sign_offs(db.session, user(), document_id, _grace())
    return {"items": [present_sign_off(v) for v in views]}


@bp.post("/api/submissions/<int:submission_id>/sign-off")
@requires("registers.submit")
@contract(resp=SIGN_OFF_ERRORS)
def api_sign_off_submission(submission_id: int, json: SignOffCommand) -> Any:
    """The provider's sign-off (an admin's) of a submission, with a fresh password confirmation."""
    return _sign(sign_offs.sign_off_submission, submission_id, json)


@bp.get("/api/submissions/<int:submission_id>/sign-offs")
@requires("registers.view")
@contract(resp=responds(HTTP_200=SignOffList))
def api_submission_sign_offs(submission_id: int) -> Any:
    """The submission's provider sign-offs, newest first."""
    views = reads.submission_sign_offs(db.session, user(), submission_id, _grace())
    return {"items": [present_sign_off(v) for v in views]}


def register_screen_context(reg: Any) -> dict[str, Any]:
    """What the register screen shows of signatures: the sign-offs, each row's signature, and whether this user
    may sign off now (and must re-enter the password first)."""
    found = reads.for_class_session(db.session, reg.class_session, reg.cohort)
    ended = clock.now() >= reg.class_session.ends_at
    can_sign_off = reg.can_mark and ended and reg.class_session.status.value != "CANCELLED"
    return {"signatures": found, "can_sign_off": can_sign_off, **sign_off_form_context()}
