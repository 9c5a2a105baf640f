"""Screens and JSON API for attendance: the register, marking, locking, evidence, history, the daily view."""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.access.scoping import cohort_filter
from core.attendance import evidence, export, roster
from core.attendance import service as attendance
from core.attendance.commands import LockSession, MarkRegister, UnlockSession
from core.attendance.roster import RegisterRow
from core.errors import ValidationError
from core.i18n import N_
from core.models import Institution

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..downloads import attachment
from ..extensions import db
from ..i18n import current_language
from ..registers import session_panel
from .schemas import EvidenceOut, EvidenceUpload, HistoryItem, MarkResult, RegisterOut

bp = Blueprint("attendance", __name__)


@bp.before_request
def _start_timer() -> None:
    g.attendance_started = time.perf_counter()


@bp.after_request
def _server_timing(response: Response) -> Response:
    """Server-Timing: how long the app took (auth, validation, SQL, JSON); the bench reads it."""
    started = g.get("attendance_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def register_json(reg: attendance.Register) -> dict[str, Any]:
    s = reg.info
    key = reg.spec.key
    evidence_base = _evidence_base()
    return {
        "session": {
            "id": s.id, "cohort_id": s.cohort_id, "cohort_name": s.cohort_name,
            "cohort_type": s.cohort_type, "session_date": s.session_date.isoformat(),
            "start_time": s.start_time.strftime("%H:%M"), "end_time": s.end_time.strftime("%H:%M"),
            "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at), "time_zone": reg.time_zone,
            "session_type": s.session_type, "title": s.title, "status": s.status,
            "room": s.room, "instructor": s.instructor, "is_locked": s.is_locked, "locked_at": _iso(s.locked_at),
            "lock_reason": s.lock_reason,
            "relock_after": _iso(s.relock_after), "auto_lock_at": _iso(reg.auto_lock_at),
        },
        "key": key,
        "permissions": {"mark": reg.editable, "lock": reg.can_lock, "unlock": reg.can_unlock},
        "counts": reg.counts,
        "trainees": [_trainee_json(r, key, evidence_base) for r in reg.rows],
    }


def _evidence_base() -> str:
    """The evidence URL without its id: url_for once per response, not once per row (it costs more than the row)."""
    return url_for("attendance.api_evidence_download", evidence_id=0)[:-1]


def _trainee_json(r: RegisterRow, key: str, evidence_base: str) -> dict[str, Any]:
    return {"id": r.member_id, key: r.member_id, "name": r.name, "reference": r.detail, "active": r.active,
            "record_id": r.record_id, "status": r.status, "minutes_late": r.minutes_late, "notes": r.notes,
            "has_evidence": r.evidence_file_id is not None,
            "evidence_url": f"{evidence_base}{r.evidence_file_id}" if r.evidence_file_id else None,
            "marked_by": r.marked_by, "marked_at": _iso(r.marked_at), "version": r.version}


def changes_json(outcome: attendance.MarkOutcome) -> dict[str, Any]:
    """The answer to a mark by default: what changed (the client holds the rest of the register)."""
    reg = outcome.register
    evidence_base = _evidence_base()
    return {"session_id": reg.info.id, "key": reg.spec.key, "register": "changes", "counts": reg.counts,
            "changed": outcome.changed, "conflicts": outcome.conflicts,
            "trainees": [_trainee_json(r, reg.spec.key, evidence_base) for r in outcome.changed_rows]}


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    """A large register serialized without key sorting (Flask's default sorts every key of every row)."""
    return current_app.response_class(orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS), status=status,
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
    return render_template("attendance/register.html", reg=reg, **session_panel(session_id), grace_hours=_grace(),
                           auto_lock_local=locks_at.astimezone(ZoneInfo(reg.time_zone)))


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
        zone = db.session.scalar(select(Institution.time_zone).where(Institution.id == user().institution_id))
        try:
            relock = dt.datetime.fromisoformat(relock).replace(tzinfo=ZoneInfo(zone or "UTC")).isoformat()
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
    zone = db.session.scalar(select(Institution.time_zone).where(Institution.id == user().institution_id)) or "UTC"
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
    pages = math.ceil(len(records) / per_page) if records else 0
    shown = records[(page - 1) * per_page: page * per_page]
    return render_template("attendance/daily.html", day=day, q=q, records=shown, total=len(records), page=page,
                           pages=pages, prev_day=day - dt.timedelta(days=1), next_day=day + dt.timedelta(days=1))


# --- JSON API --------------------------------------------------------------------------------------------------

@bp.get("/api/institution/class-sessions/<int:session_id>")
@requires("attendance.view")
@contract(resp=responds(HTTP_200=RegisterOut))
def api_session(session_id: int) -> Any:
    """One class session's register: its details and every trainee's mark."""
    return _json(register_json(_register(session_id)))


@bp.post("/api/institution/attendance/mark")
@requires("attendance.mark")
@contract(resp=responds(HTTP_200=MarkResult, HTTP_409=ErrorEnvelope, HTTP_422=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_mark(json: MarkRegister) -> Any:
    """Mark a whole register in one request (an idempotent upsert); `mark_all_present` fills the rest.
    Answers what changed (the client holds the rest), or the whole register with `full_register`."""
    outcome = attendance.mark(db.session, user(), json, grace_hours=_grace(), language=current_language())
    if not json.full_register:
        return _json(changes_json(outcome))
    return _json({**register_json(outcome.register), "register": "full", "changed": outcome.changed,
                  "conflicts": outcome.conflicts})


@bp.post("/api/institution/class-sessions/<int:session_id>/lock")
@requires("attendance.lock")
@contract(resp=responds(HTTP_200=RegisterOut))
def api_lock(session_id: int, json: LockSession) -> Any:
    """Lock a session's register now, with a reason (no more marking)."""
    attendance.lock_session(db.session, user(), session_id, json)
    return _json(register_json(_register(session_id)))


@bp.post("/api/institution/class-sessions/<int:session_id>/unlock")
@requires("attendance.unlock")
@contract(resp=responds(HTTP_200=RegisterOut, HTTP_409=ErrorEnvelope))
def api_unlock(session_id: int, json: UnlockSession) -> Any:
    """Unlock a locked register for corrections, with a reason; it locks again by itself later."""
    attendance.unlock_session(db.session, user(), session_id, json, grace_hours=_grace())
    return _json(register_json(_register(session_id)))


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
    return {"id": found.id, "filename": found.original_filename, "content_type": found.content_type,
            "size_bytes": found.size_bytes, "sha256": found.sha256,
            "url": url_for("attendance.api_evidence_download", evidence_id=found.id)}, 201


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
    items = [{"at": c.at.isoformat(), "action": c.action, "by": c.by, "from": c.before, "to": c.after}
             for c in evidence.record_history(db.session, user(), session_id, trainee_id)]
    return {"items": items, "page": 1, "per_page": len(items) or 1, "total": len(items), "pages": 1 if items else 0}
