"""Screens and JSON API for attendance: the register, marking, locking, evidence, history, the daily view."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel

from core import clock
from core.access.scoping import can, cohort_filter
from core.apologies import reads as apology_reads
from core.attendance import evidence, export, roster
from core.attendance import service as attendance
from core.attendance.commands import LockSession, MarkRegister, UnlockSession
from core.errors import ValidationError
from core.i18n import N_
from core.pagination import page_count

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..downloads import attachment
from ..extensions import db
from ..i18n import current_language, institution_zone
from ..registers import session_panel
from ..signatures import register_screen_context
from ..timing import time_answers
from .schemas import (
    EVIDENCE_OUT,
    HISTORY_ITEM,
    MARK_RESULT,
    REGISTER_OUT,
    EvidenceOut,
    EvidenceUpload,
    HistoryItem,
    MarkResult,
    RegisterOut,
)

bp = Blueprint("attendance", __name__)


time_answers(bp)


def register_out(reg: attendance.Register) -> BaseModel:
    """The register as the API shows it, built by its schema from the domain's Register."""
    return REGISTER_OUT[reg.key].model_validate(reg, from_attributes=True, context=_row_context())


def _row_context() -> dict[str, str]:
    """What a row's schema needs from the request: the evidence URL without its id (url_for once per response,
    not once per row: it costs more than the row)."""
    return {"evidence_base": url_for("attendance.api_evidence_download", evidence_id=0)[:-1]}


def mark_result(outcome: attendance.MarkOutcome, *, full: bool) -> BaseModel:
    """The answer to a mark, built by its schema: by default what changed (the client holds the rest of the
    register); with `full`, the whole register as well."""
    reg = outcome.register
    parts: dict[str, Any] = {"key": reg.key, "counts": reg.counts, "changed": outcome.changed,
                             "conflicts": outcome.conflicts}
    if full:
        parts.update({"register": "full", "info": reg.info, "permissions": reg.permissions, "trainees": reg.rows})
    else:
        parts.update({"register": "changes", "session_id": reg.info.id, "trainees": outcome.changed_rows})
    return MARK_RESULT[reg.key].model_validate(parts, from_attributes=True, context=_row_context())


def _answer(model: BaseModel, status: int = 200) -> Response:
    """A schema's answer, dumped by pydantic-core straight to JSON (only the fields set: a row names its own
    cohort's key, a change answer no session)."""
    return current_app.response_class(model.model_dump_json(by_alias=True, exclude_unset=True), status=status,
                                      mimetype="application/json")


def _register(session_id: int) -> Any:
    """The session's register for this request (names in its language's order)."""
    return attendance.get_register(db.session, user(), session_id, grace_hours=_grace(), language=current_language())


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


# --- screens ---------------------------------------------------------------------------------------------------

@bp.get("/institution/attendance/sessions/<int:session_id>")
@requires("attendance.view")
def register(session_id: int) -> Any:
    reg = _register(session_id)
    locks_at = max(reg.auto_lock_at, reg.info.relock_after or reg.auto_lock_at)  # an unlock may run past the cut-off
    return render_template("attendance/register.html", reg=reg, **session_panel(session_id),
                           **register_screen_context(reg), grace_hours=_grace(),
                           auto_lock_local=locks_at.astimezone(ZoneInfo(reg.time_zone)),
                           pending_apologies=apology_reads.pending_for_session(db.session, session_id)
                           if can(db.session, user(), "apologies.decide") else [])


@bp.post("/institution/attendance/sessions/<int:session_id>/lock")
@requires("attendance.lock")
def lock_screen(session_id: int) -> Any:
    attendance.lock_session(db.session, user(), session_id, LockSession(reason=request.form.get("reason")))
    flash(_("Session locked. Its register is now read-only."), "success")
    return redirect(url_for("attendance.register", session_id=session_id))


@bp.post("/institution/attendance/sessions/<int:session_id>/unlock")
@requires("attendance.unlock")
def unlock_screen(session_id: int) -> Any:
    relock = request.form.get("relock_after") or None
    if relock and len(relock) == 16:  # <input type="datetime-local">: a wall-clock time in the institution's zone
        zone = institution_zone(user().institution_id)
        try:
            relock = dt.datetime.fromisoformat(relock).replace(tzinfo=ZoneInfo(zone)).isoformat()
        except ValueError:
            raise ValidationError(N_("Re-lock time must be a date and time."), code="invalid_relock_after") from None
    attendance.unlock_session(db.session, user(), session_id,
                              UnlockSession(reason=request.form.get("reason"), relock_after=relock),
                              grace_hours=_grace())
    flash(_("Session unlocked. Changes are possible until it locks again."), "success")
    return redirect(url_for("attendance.register", session_id=session_id))


@bp.get("/institution/attendance/sessions/<int:session_id>/export.csv")
@requires("attendance.view")
def export_csv(session_id: int) -> Any:
    reg = _register(session_id)
    s = reg.class_session
    preamble = [[_("Cohort"), reg.cohort.name],
                [_("Session"), f"{s.session_date} {s.start_time:%H:%M}-{s.end_time:%H:%M}"],
                [_("Locked"), _("yes") if reg.info.is_locked else _("no")], []]
    body = export.to_csv(export.register_rows(reg.rows, _), preamble)
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": attachment(f"register-{s.session_date}-session-{s.id}.csv")})


@bp.get("/institution/attendance")
@requires("attendance.view")
def daily_view() -> Any:
    zone = institution_zone(user().institution_id)
    raw_day = request.args.get("date", "").strip()
    try:
        day = dt.date.fromisoformat(raw_day) if raw_day else clock.today_in(zone)
    except ValueError:
        flash(_("Dates look like 2026-01-31; showing today instead."), "warning")
        day = clock.today_in(zone)
    q = request.args.get("q", "").strip()
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    per_page = 50
    records = roster.daily_records(db.session, day, cohort_filter(user()), q or None, current_language())
    pages = page_count(len(records), per_page)
    shown = records[(page - 1) * per_page: page * per_page]
    return render_template("attendance/daily.html", day=day, q=q, records=shown, total=len(records), page=page,
                           pages=pages, prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1))


# --- JSON API --------------------------------------------------------------------------------------------------

@bp.get("/api/institution/class-sessions/<int:session_id>")
@requires("attendance.view")
@contract(resp=responds(HTTP_200=RegisterOut))
def api_session(session_id: int) -> Any:
    """One class session's register: its details and every trainee's mark."""
    return _answer(register_out(_register(session_id)))


@bp.post("/api/institution/attendance/mark")
@requires("attendance.mark")
@contract(resp=responds(HTTP_200=MarkResult, HTTP_409=ErrorEnvelope, HTTP_422=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_mark(json: MarkRegister) -> Any:
    """Mark a whole register in one request (an idempotent upsert); `mark_all_present` fills the rest.
    Answers what changed (the client holds the rest), or the whole register with `full_register`."""
    outcome = attendance.mark(db.session, user(), json, grace_hours=_grace(), language=current_language())
    return _answer(mark_result(outcome, full=json.full_register))


@bp.post("/api/institution/class-sessions/<int:session_id>/lock")
@requires("attendance.lock")
@contract(resp=responds(HTTP_200=RegisterOut))
def api_lock(session_id: int, json: LockSession) -> Any:
    """Lock a session's register now, with a reason (no more marking)."""
    attendance.lock_session(db.session, user(), session_id, json)
    return _answer(register_out(_register(session_id)))


@bp.post("/api/institution/class-sessions/<int:session_id>/unlock")
@requires("attendance.unlock")
@contract(resp=responds(HTTP_200=RegisterOut, HTTP_409=ErrorEnvelope))
def api_unlock(session_id: int, json: UnlockSession) -> Any:
    """Unlock a locked register for corrections, with a reason; it locks again by itself later."""
    attendance.unlock_session(db.session, user(), session_id, json, grace_hours=_grace())
    return _answer(register_out(_register(session_id)))


@bp.post("/api/institution/class-sessions/<int:session_id>/trainees/<int:trainee_id>/evidence")
@requires("attendance.mark")
@contract(form=EvidenceUpload,
          resp=responds(HTTP_201=EvidenceOut, HTTP_409=ErrorEnvelope, HTTP_413=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_evidence_upload(session_id: int, trainee_id: int) -> Any:
    """Attach a sick note (multipart field `file`) to a trainee's mark in this session."""
    upload = request.files.get("file")
    found = evidence.attach_evidence(
        db.session, user(), current_app.extensions["storage"], session_id, trainee_id,
        upload.stream if upload and upload.filename else None, upload.filename if upload else None,
        max_bytes=int(current_app.config["EVIDENCE_MAX_MB"]) * 1024 * 1024, grace_hours=_grace(),
    )
    return _answer(EVIDENCE_OUT.model_validate(found, from_attributes=True, context=_row_context()), 201)


@bp.get("/api/institution/evidence/<int:evidence_id>")
@requires("attendance.view")
@contract(resp=responds(HTTP_200=None))
def api_evidence_download(evidence_id: int) -> Any:
    """The evidence file itself, to whoever may see the register it belongs to."""
    found = evidence.evidence_for_download(db.session, user(), evidence_id)
    storage = current_app.extensions["storage"]
    return Response(storage.iter_chunks(found.storage_key), mimetype=found.content_type,
                    headers={"Content-Disposition": attachment(found.original_filename),
                             "Content-Length": str(found.size_bytes), "Cache-Control": "private, no-store"})


@bp.get("/api/institution/class-sessions/<int:session_id>/trainees/<int:trainee_id>/history")
@requires("attendance.view")
@contract(resp=responds(HTTP_200=Page[HistoryItem]))
def api_history(session_id: int, trainee_id: int) -> Any:
    """Every audited change of one trainee's mark in this session, oldest first (one page)."""
    items = [HISTORY_ITEM.model_validate(c, from_attributes=True).model_dump(by_alias=True)
             for c in evidence.record_history(db.session, user(), session_id, trainee_id)]
    return {"items": items, "page": 1, "per_page": len(items) or 1, "total": len(items), "pages": 1 if items else 0}
