"""Screens and JSON API for scheduling: the generator, single sessions, rooms, holidays, calendar, iCal feeds.

Views are thin: requests become commands (core/scheduling/commands.py), use cases do the work, and
responses are shaped by the presenters in schemas.py.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, url_for

from core import jobs
from core.access.scoping import visible_cohort
from core.models import ClassSession
from core.models.sessions import ScheduleRun
from core.scheduling import feeds, places
from core.scheduling.apply import Applied, apply
from core.scheduling.calendar import calendar_window
from core.scheduling.commands import (
    CalendarQuery,
    CancelSession,
    CreateFeed,
    CreateHoliday,
    CreateRoom,
    EditSession,
    HolidaysQuery,
    RoomsQuery,
    SchedulePlan,
    SessionsQuery,
    UpdateRoom,
)
from core.scheduling.edit import cancel_session, edit_session
from core.scheduling.jobs import APPLY_PLAN, retry_run
from core.scheduling.plan import planned_size, preview
from core.scheduling.reads import cohort_sessions_stmt, institution_zone
from core.scheduling.runs import get_run, start_run

from ..auth import public, requires, user
from ..contract import Accepted, ErrorEnvelope, Page, contract, responds
from ..extensions import db
from ..i18n import current_language
from ..pagination import pages, paginate
from . import schemas as present
from .schemas import (
    CalendarOut,
    ClassSessionOut,
    FeedOut,
    HolidayOut,
    NewFeedOut,
    RoomOut,
    RunAccepted,
    RunOut,
    ScheduleOut,
)

bp = Blueprint("scheduling", __name__)


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def _schedule(cohort_id: int, plan: SchedulePlan) -> Applied | ScheduleRun:
    """Apply a plan inline, or hand a large one to a worker (a ScheduleRun to poll)."""
    if planned_size(db.session, user(), cohort_id, plan) > current_app.config["SCHEDULE_INLINE_LIMIT"]:
        return start_run(db.session, user(), cohort_id, plan)
    return apply(db.session, user(), cohort_id, plan)


def _session_out(s: ClassSession) -> dict[str, Any]:
    return present.class_session(s, institution_zone(db.session, s.institution_id), _grace())


# --------------------------------------------------------------------------------------------- API: generator


@bp.post("/api/institution/cohorts/<int:cohort_id>/schedule")
@requires("sessions.manage")
@contract(resp=responds(HTTP_200=ScheduleOut, HTTP_201=ScheduleOut, HTTP_202=RunAccepted, HTTP_409=ErrorEnvelope))
def api_schedule(cohort_id: int, json: SchedulePlan) -> Any:
    """Preview (`dry_run`), apply (201; 200 when nothing was new), or queue a large plan (202)."""
    if json.dry_run:
        return present.schedule_preview(db.session, preview(db.session, user(), cohort_id, json))
    outcome = _schedule(cohort_id, json)
    if isinstance(outcome, ScheduleRun):
        return {"id": outcome.id, "status": outcome.status.value, "progress": outcome.progress,
                "planned_count": outcome.planned_count,
                "status_url": url_for("scheduling.api_schedule_run", run_id=outcome.id)}, 202
    return present.schedule_applied(db.session, outcome), 201 if outcome.created_ids else 200


@bp.get("/api/institution/schedule-runs/<int:run_id>")
@requires("sessions.manage")
@contract(resp=responds(HTTP_200=RunOut))
def api_schedule_run(run_id: int) -> Any:
    """A background schedule run: status, progress and the sessions it created."""
    return _run_out(get_run(db.session, user(), run_id))


def _run_out(run: ScheduleRun) -> dict[str, Any]:
    return present.schedule_run(run, jobs.describe(db.session, [APPLY_PLAN.name], run.id),
                                url_for("scheduling.api_schedule_run_retry", run_id=run.id))


@bp.post("/api/institution/schedule-runs/<int:run_id>/retry")
@requires("sessions.manage")
@contract(resp=responds(HTTP_202=Accepted, HTTP_409=ErrorEnvelope))
def api_schedule_run_retry(run_id: int) -> Any:
    """Apply a FAILED run's plan again (sessions it created before are found, not doubled)."""
    run = retry_run(db.session, user(), run_id)
    return {"id": run.id, "status": run.status.value,
            "status_url": url_for("scheduling.api_schedule_run", run_id=run.id)}, 202


@bp.get("/api/institution/cohorts/<int:cohort_id>/sessions")
@requires("sessions.view")
@contract(resp=responds(HTTP_200=Page[ClassSessionOut]))
def api_cohort_sessions(cohort_id: int, query: SessionsQuery) -> Any:
    """A cohort's class sessions, by date and time."""
    cohort = visible_cohort(db.session, user(), cohort_id, "sessions.view")
    zone = institution_zone(db.session, cohort.institution_id)
    stmt = cohort_sessions_stmt(cohort.id, query.q, include_cancelled=query.include_cancelled)
    return paginate(stmt, lambda s: present.class_session(s, zone, _grace()), query=query)


# --------------------------------------------------------------------------------------------- API: one session


@bp.patch("/api/institution/class-sessions/<int:session_id>")
@requires("sessions.manage")
@contract(resp=responds(HTTP_200=ClassSessionOut, HTTP_409=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_edit_session(session_id: int, json: EditSession) -> Any:
    """Change a session's date, times, type, room or instructor (fields left out keep their value)."""
    return _session_out(edit_session(db.session, user(), session_id, json, grace_hours=_grace()))


@bp.post("/api/institution/class-sessions/<int:session_id>/cancel")
@requires("sessions.manage")
@contract(resp=responds(HTTP_200=ClassSessionOut, HTTP_409=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_cancel_session(session_id: int, json: CancelSession) -> Any:
    """Cancel a class session, with an optional reason."""
    return _session_out(cancel_session(db.session, user(), session_id, json, grace_hours=_grace()))


# --------------------------------------------------------------------------------------------- API: rooms, holidays


@bp.get("/api/rooms")
@requires("sessions.view")
@contract(resp=responds(HTTP_200=Page[RoomOut]))
def api_rooms(query: RoomsQuery) -> Any:
    """Rooms of the institution."""
    return paginate(places.rooms_stmt(user(), query.q, query.include_inactive, current_language()), present.room,
                    query=query)


@bp.post("/api/rooms")
@requires("sessions.manage")
@contract(resp=responds(HTTP_201=RoomOut, HTTP_409=ErrorEnvelope))
def api_create_room(json: CreateRoom) -> Any:
    """Add a room."""
    return present.room(places.create_room(db.session, user(), json)), 201


@bp.patch("/api/rooms/<int:room_id>")
@requires("sessions.manage")
@contract(resp=responds(HTTP_200=RoomOut, HTTP_409=ErrorEnvelope))
def api_update_room(room_id: int, json: UpdateRoom) -> Any:
    """Change a room, or retire it (`is_active: false`)."""
    return present.room(places.update_room(db.session, user(), room_id, json))


@bp.get("/api/holidays")
@requires("sessions.view")
@contract(resp=responds(HTTP_200=Page[HolidayOut]))
def api_holidays(query: HolidaysQuery) -> Any:
    """The year's holidays (`?year=`, default the current one): the public holidays of the institution's country
    (`source: public`, from the holidays library) and the days the institution added (`source: institution`)."""
    entries, total, _year = places.holiday_list(db.session, user(), query, current_language())
    return {"items": [present.holiday(h) for h in entries], "page": query.page, "per_page": query.per_page,
            "total": total, "pages": pages(total, query.per_page)}


@bp.post("/api/holidays")
@requires("sessions.manage")
@contract(resp=responds(HTTP_201=HolidayOut, HTTP_409=ErrorEnvelope))
def api_create_holiday(json: CreateHoliday) -> Any:
    """Add a holiday."""
    return present.holiday(places.create_holiday(db.session, user(), json)), 201


@bp.delete("/api/holidays/<int:holiday_id>")
@requires("sessions.manage")
@contract(resp=responds(HTTP_204=None))
def api_delete_holiday(holiday_id: int) -> Any:
    """Remove a holiday."""
    places.delete_holiday(db.session, user(), holiday_id)
    return "", 204


# --------------------------------------------------------------------------------------------- API: calendar, feeds


@bp.get("/api/institution/attendance/calendar")
@requires("sessions.view")
@contract(resp=responds(HTTP_200=CalendarOut))
def api_calendar(query: CalendarQuery) -> Any:
    """Sessions between `start` and `end`, for the calendar (optionally by cohort, room or instructor)."""
    body = present.calendar(calendar_window(db.session, user(), query, _grace(), current_language()))
    # A month can hold thousands of events: compact, unsorted JSON is a third faster than jsonify here.
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")


def _feed_url(token: str) -> str:
    return current_app.config["BASE_URL"] + url_for("scheduling.ical_feed", feed_token=token)


@bp.get("/api/calendar-feeds")
@requires("sessions.view")
@contract(resp=responds(HTTP_200=Page[FeedOut]))
def api_feeds() -> Any:
    """Your calendar feeds (iCalendar subscription links)."""
    items = [present.feed(row, name) for row, name in feeds.feeds_for(db.session, user())]
    return {"items": items, "page": 1, "per_page": len(items) or 1, "total": len(items), "pages": 1 if items else 0}


@bp.post("/api/calendar-feeds")
@requires("sessions.view")
@contract(resp=responds(HTTP_201=NewFeedOut))
def api_create_feed(json: CreateFeed) -> Any:
    """Create a calendar feed for a facilitator, cohort or room; the answer holds its secret link."""
    row, token = feeds.create_feed(db.session, user(), json)
    return {**present.feed(row), "token": token, "url": _feed_url(token)}, 201


@bp.delete("/api/calendar-feeds/<int:token_id>")
@requires("sessions.view")
@contract(resp=responds(HTTP_204=None))
def api_revoke_feed(token_id: int) -> Any:
    """Revoke a calendar feed: its link stops working."""
    feeds.revoke_feed(db.session, user(), token_id)
    return "", 204


@bp.get("/calendar/feeds/<feed_token>.ics")
@public
def ical_feed(feed_token: str) -> Any:
    """Public on purpose: calendar apps can't sign in. The unguessable, revocable token is the guard."""
    body = feeds.feed_calendar(db.session, feed_token, _host())
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="sessions.ics"', "Cache-Control": "private, max-age=300"})


from . import screens  # noqa: E402,F401  (the screens register their routes on this blueprint)
