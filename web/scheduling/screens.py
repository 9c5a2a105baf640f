"""Scheduling screens: a cohort's sessions (preview and apply), schedule runs, editing and cancelling a session.

They register on the package's blueprint, beside the JSON API in __init__.py."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select

from core import clock
from core.access.scoping import cohort_filter, visible_cohort
from core.attendance.locking import lock_states
from core.collation import collated
from core.errors import Conflict, DomainError, ValidationError
from core.i18n import N_
from core.institutions.phones import institution_country
from core.models import Cohort, Room, SessionType
from core.models.sessions import ScheduleRun
from core.scheduling import feeds, places
from core.scheduling.commands import (
    CancelSession,
    CreateFeed,
    CreateHoliday,
    CreateRoom,
    EditSession,
    HolidaysQuery,
    RoomsQuery,
    SchedulePlan,
    UpdateRoom,
)
from core.scheduling.edit import cancel_session, edit_session
from core.scheduling.plan import preview
from core.scheduling.reads import cohort_sessions_stmt, institution_zone, visible_session
from core.scheduling.runs import get_run

from ..auth import requires, user
from ..contract import request_invalid
from ..extensions import db
from ..i18n import current_language, local_date, say, translated_message
from ..pagination import pages, paginate
from . import _feed_url, _grace, _run_out, _schedule, bp
from . import schemas as present


def _form_plan(form: Any) -> dict[str, Any]:
    """The generator form as the same JSON plan the API takes (or the plan a preview carried along)."""
    if form.get("plan_json"):
        try:
            data = json.loads(form["plan_json"])
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValidationError(N_("The previewed plan was damaged; preview again."), code="invalid_plan")
        return data
    slots = []
    for n in (1, 2):
        if n == 2 and not form.get("slot2_enabled"):
            continue
        slots.append({"start": form.get(f"slot{n}_start", ""), "end": form.get(f"slot{n}_end", ""),
                      "session_type": form.get(f"slot{n}_type") or "THEORY",
                      "room_id": form.get(f"slot{n}_room") or None,
                      "instructor_id": form.get(f"slot{n}_instructor") or None})
    excluded = [d for d in re.split(r"[\s,;]+", form.get("excluded_dates", "")) if d]
    return {"start_date": form.get("start_date") or None, "end_date": form.get("end_date") or None,
            "weekdays": [int(d) for d in form.getlist("weekdays") if d.isdecimal()], "slots": slots,
            "excluded_dates": excluded, "use_holidays": bool(form.get("use_holidays")),
            "use_public_holidays": bool(form.get("use_public_holidays")),
            "on_conflict": form.get("on_conflict") or "skip"}


def _problems(exc: Exception) -> list[str]:
    """A refused plan's problems as sentences for the form."""
    if isinstance(exc, PydanticValidationError):
        invalid = request_invalid(exc.errors(include_context=True, include_url=False))
        return [translated_message(invalid), *[f"{d['field']}: {d['message']}" if d["field"] else d["message"]
                                   for d in invalid.details]]
    assert isinstance(exc, DomainError)
    details = exc.details if isinstance(exc.details, list) else []
    return [translated_message(exc), *[say(d["message"]) for d in details]]


def _sessions_page(cohort_id: int, *, plan: dict[str, Any] | None = None, preview: dict[str, Any] | None = None,
                   errors: list[Any] | None = None, status: int = 200) -> Any:
    cohort = visible_cohort(db.session, user(), cohort_id, "sessions.manage")
    zone = institution_zone(db.session, cohort.institution_id)
    listing = paginate(cohort_sessions_stmt(cohort.id, request.args.get("q")), lambda s: s)
    rooms = db.session.scalars(select(Room).where(Room.institution_id == cohort.institution_id,
                                                  Room.is_active.is_(True))
                               .order_by(collated(Room.name, current_language()))).all()
    return render_template(
        "scheduling/cohort_sessions.html", cohort=cohort, zone=zone, sessions=listing["items"],
        page=listing["page"], pages=listing["pages"], total=listing["total"], rooms=rooms,
        instructors=places.instructors(db.session, cohort.institution_id, current_language()), types=list(SessionType),
        plan=plan or {}, preview=preview, errors=errors or [], plan_json=json.dumps(plan) if plan else "",
        locks=lock_states(db.session, listing["items"], _grace()),
    ), status


@bp.get("/admin/cohorts/<int:cohort_id>/sessions")
@requires("sessions.manage")
def cohort_sessions(cohort_id: int) -> Any:
    return _sessions_page(cohort_id)


@bp.post("/admin/cohorts/<int:cohort_id>/sessions/preview")
@requires("sessions.manage")
def cohort_sessions_preview(cohort_id: int) -> Any:
    plan = _form_plan(request.form)
    try:
        pv = preview(db.session, user(), cohort_id, SchedulePlan.model_validate(plan))
    except (ValidationError, Conflict, PydanticValidationError) as exc:
        return _sessions_page(cohort_id, plan=plan, errors=_problems(exc),
                              status=getattr(exc, "http_status", 422))
    return _sessions_page(cohort_id, plan=plan, preview=present.schedule_preview(db.session, pv, limit=500))


@bp.post("/admin/cohorts/<int:cohort_id>/sessions/apply")
@requires("sessions.manage")
def cohort_sessions_apply(cohort_id: int) -> Any:
    outcome = _schedule(cohort_id, SchedulePlan.model_validate(_form_plan(request.form)))
    if isinstance(outcome, ScheduleRun):
        flash(_("The plan is large: it is being applied in the background."), "info")
        return redirect(url_for("scheduling.schedule_run", run_id=outcome.id))
    result = outcome.preview.result
    flash(_("%(created)s session(s) created; %(existing)s already scheduled; %(skipped)s skipped for a conflict.",
            created=len(outcome.created_ids), existing=len(result.already_scheduled),
            skipped=len(result.skipped)), "success")
    return redirect(url_for("scheduling.cohort_sessions", cohort_id=cohort_id))


@bp.get("/admin/schedule-runs/<int:run_id>")
@requires("sessions.manage")
def schedule_run(run_id: int) -> Any:
    run = get_run(db.session, user(), run_id)
    return render_template("scheduling/run.html", run=_run_out(run),
                           status_url=url_for("scheduling.api_schedule_run", run_id=run.id),
                           back=url_for("scheduling.cohort_sessions", cohort_id=run.cohort_id))


EDIT_FIELDS = ("session_date", "start_time", "end_time", "session_type", "room_id", "instructor_id", "title",
               "location", "notes")


@bp.route("/admin/class-sessions/<int:session_id>/edit", methods=["GET", "POST"], endpoint="edit_session")
@requires("sessions.manage")
def edit_session_screen(session_id: int) -> Any:
    s = visible_session(db.session, user(), session_id)
    if request.method == "POST":
        changes = {k: request.form[k] for k in EDIT_FIELDS if k in request.form}
        for k in ("room_id", "instructor_id"):  # an empty choice: nobody / no room
            if k in changes and not changes[k]:
                changes[k] = None
        edit_session(db.session, user(), session_id, EditSession.model_validate(changes), grace_hours=_grace())
        flash(_("Session updated."), "success")
        return redirect(url_for("scheduling.cohort_sessions", cohort_id=s.cohort_id))
    rooms = db.session.scalars(select(Room).where(Room.institution_id == s.institution_id)
                               .order_by(collated(Room.name, current_language()))).all()
    locked = lock_states(db.session, [s], _grace())[s.id].locked
    return render_template("scheduling/edit_session.html", s=s, locked=locked, rooms=rooms, types=list(SessionType),
                           instructors=places.instructors(db.session, s.institution_id, current_language()))


@bp.post("/admin/class-sessions/<int:session_id>/cancel", endpoint="cancel_session")
@requires("sessions.manage")
def cancel_session_screen(session_id: int) -> Any:
    s = cancel_session(db.session, user(), session_id, CancelSession(reason=request.form.get("reason") or None),
                       grace_hours=_grace())
    flash(_("Session of %(day)s cancelled.", day=local_date(s.session_date, "dd MMM y")), "success")
    return redirect(request.referrer or url_for("scheduling.cohort_sessions", cohort_id=s.cohort_id))


def _room_form(names: tuple[str, ...]) -> dict[str, Any]:
    """Room form fields as the room commands read them: an empty field is no value."""
    return {k: request.form.get(k) or None for k in names if k in request.form}


@bp.route("/admin/rooms", methods=["GET", "POST"])
@requires("sessions.manage")
def room_list() -> Any:
    if request.method == "POST":
        room = places.create_room(db.session, user(), CreateRoom.model_validate(
            _room_form(("name", "capacity", "location"))))
        flash(_("Room %(name)s added.", name=room.name), "success")
        return redirect(url_for("scheduling.room_list"))
    query = RoomsQuery.model_validate(request.args.to_dict())
    listing = paginate(places.rooms_stmt(user(), query.q, include_inactive=True, language=current_language()),
                       lambda r: r, query=query)
    return render_template("scheduling/rooms.html", rooms=listing["items"], page=listing["page"],
                           pages=listing["pages"], q=query.q or "")


@bp.post("/admin/rooms/<int:room_id>")
@requires("sessions.manage")
def room_update(room_id: int) -> Any:
    data = _room_form(("name", "capacity", "location"))
    if "is_active" in request.form:
        data["is_active"] = request.form.get("is_active") == "1"
    room = places.update_room(db.session, user(), room_id, UpdateRoom.model_validate(data))
    flash(_("Room %(name)s saved.", name=room.name), "success")
    return redirect(url_for("scheduling.room_list"))


@bp.route("/admin/holidays", methods=["GET", "POST"])
@requires("sessions.manage")
def holiday_list() -> Any:
    if request.method == "POST":
        holiday = places.create_holiday(db.session, user(), CreateHoliday.model_validate(
            {k: request.form.get(k) for k in ("date", "name")}))
        flash(_("%(day)s (%(name)s) added.", day=local_date(holiday.date, "dd MMM y"), name=holiday.name), "success")
        return redirect(url_for("scheduling.holiday_list"))
    query = HolidaysQuery.model_validate({"per_page": 50, **request.args.to_dict()})
    entries, total, year = places.holiday_list(db.session, user(), query, current_language())
    return render_template("scheduling/holidays.html", holidays=entries, page=query.page,
                           pages=pages(total, query.per_page), q=query.q or "", year=year,
                           country=institution_country(db.session, user().institution_id))


@bp.post("/admin/holidays/<int:holiday_id>/delete")
@requires("sessions.manage")
def holiday_delete(holiday_id: int) -> Any:
    places.delete_holiday(db.session, user(), holiday_id)
    flash(_("Holiday removed."), "success")
    return redirect(url_for("scheduling.holiday_list"))


def _pickers() -> dict[str, Any]:
    """The cohorts, rooms and instructors the calendar and feed screens offer."""
    me, language = user(), current_language()
    return {"cohorts": db.session.scalars(select(Cohort).where(cohort_filter(me))
                                          .order_by(collated(Cohort.name, language))).all(),
            "rooms": db.session.scalars(select(Room).where(Room.institution_id == me.institution_id)
                                        .order_by(collated(Room.name, language))).all(),
            "instructors": places.instructors(db.session, me.institution_id, language)}


@bp.get("/institution/attendance/calendar")
@requires("sessions.view")
def calendar() -> Any:
    zone = institution_zone(db.session, user().institution_id)
    return render_template("scheduling/calendar.html", zone=zone, today=clock.today_in(zone), **_pickers())


@bp.route("/institution/attendance/calendar/feeds", methods=["GET", "POST"])
@requires("sessions.view")
def feed_list() -> Any:
    new_url = None
    if request.method == "POST":
        _row, token = feeds.create_feed(db.session, user(), CreateFeed.model_validate(
            {"kind": request.form.get("kind"), "subject_id": request.form.get("subject_id") or None}))
        new_url = _feed_url(token)
        flash(_("Feed created. Copy its address now: it is shown only once."), "success")
    return render_template("scheduling/feeds.html", feeds=feeds.feeds_for(db.session, user()), new_url=new_url,
                           **_pickers())


@bp.post("/institution/attendance/calendar/feeds/<int:token_id>/revoke")
@requires("sessions.view")
def feed_revoke(token_id: int) -> Any:
    feeds.revoke_feed(db.session, user(), token_id)
    flash(_("Feed revoked: calendars subscribed to it stop updating."), "success")
    return redirect(url_for("scheduling.feed_list"))
