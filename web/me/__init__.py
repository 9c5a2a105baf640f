"""A learner's own pages and API (issue 21): /me, their attendance, sessions, apologies and files. Everything
here is scoped to the signed-in learner by core.me and core.apologies; staff hold none of these permissions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core import clock
from core.apologies import reads as apology_reads
from core.apologies import service as apologies
from core.apologies.commands import SendApology
from core.errors import NotFound
from core.i18n import N_
from core.me import reads
from core.me.commands import MySessionsQuery
from core.personal_data.people import Person
from core.scheduling.reads import institution_zone

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..downloads import attachment
from ..extensions import db
from ..forms import form_command
from ..personal_data import start_export
from ..personal_data.schemas import DataExportOut
from ..personal_data.screens import export_started
from .schemas import ApologyOut, ApologyUpload, CohortAttendanceOut, MyAttendanceOut, MySessionOut

bp = Blueprint("me", __name__)
UPCOMING_DAYS = 14


def _context() -> dict[str, str]:
    return {"evidence_base": url_for("me.api_evidence", evidence_id=0)[:-1]}


def _attendance() -> list[reads.CohortAttendance]:
    return reads.my_attendance(db.session, user(), required_rate=float(current_app.config["AT_RISK_THRESHOLD"]),
                               consecutive=int(current_app.config["AT_RISK_CONSECUTIVE_MISSES"]))


def _upload() -> apologies.Upload | None:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    return apologies.Upload(upload.stream, upload.filename, int(current_app.config["EVIDENCE_MAX_MB"]) * 1024 * 1024)


def _page(items: list[Any]) -> dict[str, Any]:
    """Everything in one page (the lists here are bounded: a date range, one person's apologies)."""
    return {"items": items, "page": 1, "per_page": max(len(items), 1), "total": len(items),
            "pages": 1 if items else 0}


@bp.post("/api/me/data-export")
@requires("own_record.view")
@contract(resp=responds(HTTP_202=DataExportOut))
def api_my_export() -> Any:
    """Export everything the provider holds on me (my account, my learner and trainee records): a ZIP built in
    the background; follow `status_url`."""
    me = user()
    return start_export(Person(kind="users", row=me, institution_id=me.institution_id))


@bp.post("/me/data-export")
@requires("own_record.view")
def my_export() -> Any:
    """The /me button: my export is prepared; the flash says where to download it."""
    me = user()
    export_started(Person(kind="users", row=me, institution_id=me.institution_id))
    return redirect(url_for("me.home"))


@bp.get("/api/me/attendance")
@requires("own_record.view")
@contract(resp=responds(HTTP_200=MyAttendanceOut))
def api_attendance() -> Any:
    """My attendance: each of my cohorts with my rate, the required rate, whether I am at risk, and its sessions
    with my mark."""
    cohorts = [CohortAttendanceOut.model_validate(c, from_attributes=True, context=_context()) for c in _attendance()]
    return MyAttendanceOut(cohorts=cohorts)


@bp.get("/api/me/sessions")
@requires("own_record.view")
@contract(query=MySessionsQuery, resp=responds(HTTP_200=Page[MySessionOut]))
def api_sessions(query: MySessionsQuery) -> Any:
    """My sessions from `from` to `to` (local dates, at most a year), each with my mark."""
    found = reads.sessions_between(db.session, user(), query.start, query.end)
    return _page([MySessionOut.model_validate(s, from_attributes=True, context=_context()).model_dump()
                  for s in found])


@bp.get("/api/me/apologies")
@requires("own_record.view")
@contract(resp=responds(HTTP_200=Page[ApologyOut]))
def api_apologies() -> Any:
    """My apologies, newest first, with their decisions."""
    return _page([ApologyOut.model_validate(a, from_attributes=True, context=_context()).model_dump()
                  for a in apology_reads.my_apologies(db.session, user())])


@bp.post("/api/me/apologies")
@requires("own_apologies.send")
@contract(json=SendApology, form=ApologyUpload, resp=responds(HTTP_201=ApologyOut, HTTP_409=ErrorEnvelope,
                                                             HTTP_413=ErrorEnvelope))
def api_send_apology() -> Any:
    """Send an apology in advance for sessions that have not started: JSON `{"session_ids", "reason"}`, or a
    multipart form with the same fields and a `file` (PDF, JPEG or PNG)."""
    command = request.context.json if request.context.json is not None else form_command(SendApology)  # type: ignore[attr-defined]
    sent = apologies.send_apology(db.session, user(), current_app.extensions["storage"], command, _upload())
    return ApologyOut.model_validate(sent, from_attributes=True, context=_context()).model_dump(), 201


@bp.get("/api/me/evidence/<int:evidence_id>")
@requires("own_record.view")
@contract(resp=responds(HTTP_200=None))
def api_evidence(evidence_id: int) -> Any:
    """A file of mine: the evidence on one of my marks, or the file I sent with an apology."""
    found = reads.my_evidence(db.session, user(), evidence_id)
    if found is None:
        raise NotFound(N_("No such file among yours."))
    return Response(current_app.extensions["storage"].iter_chunks(found.storage_key), mimetype=found.content_type,
                    headers={"Content-Disposition": attachment(found.original_filename),
                             "Content-Length": str(found.size_bytes), "Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- screens


@bp.get("/me")
@requires("own_record.view")
def home() -> Any:
    zone = institution_zone(db.session, user().institution_id)
    today = clock.today_in(zone)
    cohorts = _attendance()
    sessions = sorted((s for c in cohorts for s in c.sessions), key=lambda s: (s.starts_at, s.session_id))
    now = clock.now()
    sent = apology_reads.my_apologies(db.session, user())
    covered = {s.session_id for a in sent if a.status != "declined" for s in a.sessions}
    return render_template(
        "me/home.html", cohorts=cohorts, zone=zone, apologies=sent,
        today=[s for s in sessions if s.date == today],
        upcoming=[s for s in sessions if today < s.date <= today + dt.timedelta(days=UPCOMING_DAYS)],
        apologisable=[s for s in sessions if s.starts_at > now and not s.cancelled
                      and s.session_id not in covered][:30],
        history=[s for s in reversed(sessions) if s.status is not None])


@bp.post("/me/apologies")
@requires("own_apologies.send")
def send_apology() -> Any:
    apologies.send_apology(db.session, user(), current_app.extensions["storage"], form_command(SendApology),
                           _upload())
    flash(_("Your apology was sent. You will be told when it is decided."), "success")
    return redirect(url_for("me.home") + "#apologies")
