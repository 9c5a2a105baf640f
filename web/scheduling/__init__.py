"""Screens and JSON API for scheduling: the generator, single sessions, rooms, holidays, calendar, iCal feeds."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from core import jobs
from core.access.scoping import cohort_filter, visible_cohort
from core.attendance.locking import lock_states
from core.errors import Conflict, ValidationError
from core.models import Cohort, Room, SessionType
from core.scheduling import calendar as calendar_service
from core.scheduling import feeds, places
from core.scheduling import service as scheduling
from core.scheduling.jobs import APPLY_PLAN, retry_run

from ..auth import public, requires, user
from ..contract import Accepted, ErrorEnvelope, contract, responds
from ..extensions import db
from ..pagination import paginate

bp = Blueprint("scheduling", __name__)


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


def _json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError("Send a JSON object (Content-Type: application/json).", code="invalid_json")
    return data


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def _created_json(applied: scheduling.Applied) -> list[dict[str, Any]]:
    names = scheduling._names_for(db.session, applied.preview.zone, applied.preview.result)
    return [{"id": sid, **scheduling.planned_json(p, names)}
            for sid, p in zip(applied.created_ids, applied.preview.result.to_create, strict=True)]


def _schedule(cohort_id: int, data: Any) -> tuple[str, Any]:
    """Apply a plan inline, or hand a large one to a worker: ("applied", Applied) or ("queued", ScheduleRun)."""
    if scheduling.planned_size(db.session, user(), cohort_id, data) > current_app.config["SCHEDULE_INLINE_LIMIT"]:
        return "queued", scheduling.start_run(db.session, user(), cohort_id, data)
    return "applied", scheduling.apply(db.session, user(), cohort_id, data)


# --------------------------------------------------------------------------------------------- API: generator


@bp.post("/api/institution/cohorts/<int:cohort_id>/schedule")
@requires("sessions.manage")
def api_schedule(cohort_id: int) -> Any:
    data = _json_body()
    if not isinstance(data, dict):
        raise ValidationError("Send the plan as a JSON object.", code="invalid_plan")
    if data.get("dry_run"):
        return jsonify(scheduling.preview(db.session, user(), cohort_id, data).to_json(db.session))
    kind, outcome = _schedule(cohort_id, data)
    if kind == "queued":
        return jsonify(id=outcome.id, status=outcome.status.value, progress=outcome.progress,
                       planned_count=outcome.planned_count,
                       status_url=url_for("scheduling.api_schedule_run", run_id=outcome.id)), 202
    body = outcome.preview.to_json(db.session, limit=0)
    body.pop("sessions")
    body.update(created=_created_json(outcome), created_count=len(outcome.created_ids))
    return jsonify(body), 201 if outcome.created_ids else 200


@bp.get("/api/institution/schedule-runs/<int:run_id>")
@requires("sessions.manage")
def api_schedule_run(run_id: int) -> Any:
    return jsonify(_run_json(scheduling.get_run(db.session, user(), run_id)))


def _run_json(run: Any) -> dict[str, Any]:
    job = jobs.describe(db.session, [APPLY_PLAN.name], run.id)
    return {**scheduling.run_json(run), "job": job.as_json() if job else None,
            "retry_url": url_for("scheduling.api_schedule_run_retry", run_id=run.id)}


@bp.post("/api/institution/schedule-runs/<int:run_id>/retry")
@requires("sessions.manage")
@contract(resp=responds(HTTP_202=Accepted, HTTP_409=ErrorEnvelope))
def api_schedule_run_retry(run_id: int) -> Any:
    run = retry_run(db.session, user(), run_id)
    return jsonify(id=run.id, status=run.status.value,
                   status_url=url_for("scheduling.api_schedule_run", run_id=run.id)), 202


@bp.get("/api/institution/cohorts/<int:cohort_id>/sessions")
@requires("sessions.view")
def api_cohort_sessions(cohort_id: int) -> Any:
    cohort = visible_cohort(db.session, user(), cohort_id, "sessions.view")
    zone = scheduling.institution_zone(db.session, cohort.institution_id)
    stmt = scheduling.cohort_sessions_stmt(cohort.id, request.args.get("q"),
                                           include_cancelled=request.args.get("include_cancelled") != "0")
    return jsonify(paginate(stmt, lambda s: scheduling.session_json(s, zone, _grace())))


# --------------------------------------------------------------------------------------------- API: one session


@bp.patch("/api/institution/class-sessions/<int:session_id>")
@requires("sessions.manage")
def api_edit_session(session_id: int) -> Any:
    s = scheduling.edit_session(db.session, user(), session_id, _json_body(), grace_hours=_grace())
    return jsonify(scheduling.session_json(s, scheduling.institution_zone(db.session, s.institution_id), _grace()))


@bp.post("/api/institution/class-sessions/<int:session_id>/cancel")
@requires("sessions.manage")
def api_cancel_session(session_id: int) -> Any:
    data = request.get_json(silent=True)
    reason = data.get("reason") if isinstance(data, dict) and isinstance(data.get("reason"), str) else None
    s = scheduling.cancel_session(db.session, user(), session_id, reason, grace_hours=_grace())
    return jsonify(scheduling.session_json(s, scheduling.institution_zone(db.session, s.institution_id), _grace()))


# --------------------------------------------------------------------------------------------- API: rooms, holidays


@bp.get("/api/rooms")
@requires("sessions.view")
def api_rooms() -> Any:
    stmt = places.rooms_stmt(user(), request.args.get("q"), request.args.get("include_inactive") == "1")
    return jsonify(paginate(stmt, places.room_json))


@bp.post("/api/rooms")
@requires("sessions.manage")
def api_create_room() -> Any:
    return jsonify(places.room_json(places.create_room(db.session, user(), _json_body()))), 201


@bp.patch("/api/rooms/<int:room_id>")
@requires("sessions.manage")
def api_update_room(room_id: int) -> Any:
    return jsonify(places.room_json(places.update_room(db.session, user(), room_id, _json_body())))


def _year_arg() -> int | None:
    raw = request.args.get("year")
    if not raw:
        return None
    if not re.fullmatch(r"\d{4}", raw):
        raise ValidationError("year is a four-digit year.", code="invalid_filter")
    return int(raw)


@bp.get("/api/holidays")
@requires("sessions.view")
def api_holidays() -> Any:
    return jsonify(paginate(places.holidays_stmt(user(), _year_arg(), request.args.get("q")), places.holiday_json,
                            default_per_page=100))


@bp.post("/api/holidays")
@requires("sessions.manage")
def api_create_holiday() -> Any:
    return jsonify(places.holiday_json(places.create_holiday(db.session, user(), _json_body()))), 201


@bp.delete("/api/holidays/<int:holiday_id>")
@requires("sessions.manage")
def api_delete_holiday(holiday_id: int) -> Any:
    places.delete_holiday(db.session, user(), holiday_id)
    return "", 204


# --------------------------------------------------------------------------------------------- API: calendar, feeds


@bp.get("/api/institution/attendance/calendar")
@requires("sessions.view")
def api_calendar() -> Any:
    body = calendar_service.calendar_events(db.session, user(), request.args.to_dict(), _grace())
    # A month can hold thousands of events: compact, unsorted JSON is a third faster than jsonify here.
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")


def _feed_url(token: str) -> str:
    return current_app.config["BASE_URL"] + url_for("scheduling.ical_feed", feed_token=token)


@bp.get("/api/calendar-feeds")
@requires("sessions.view")
def api_feeds() -> Any:
    items = [feeds.feed_json(row, name) for row, name in feeds.feeds_for(db.session, user())]
    return jsonify(items=items, page=1, per_page=len(items) or 1, total=len(items), pages=1 if items else 0)


@bp.post("/api/calendar-feeds")
@requires("sessions.view")
def api_create_feed() -> Any:
    row, token = feeds.create_feed(db.session, user(), _json_body())
    return jsonify({**feeds.feed_json(row), "token": token, "url": _feed_url(token)}), 201


@bp.delete("/api/calendar-feeds/<int:token_id>")
@requires("sessions.view")
def api_revoke_feed(token_id: int) -> Any:
    feeds.revoke_feed(db.session, user(), token_id)
    return "", 204


@bp.get("/calendar/feeds/<feed_token>.ics")
@public
def ical_feed(feed_token: str) -> Any:
    """Public on purpose: calendar apps can't sign in. The unguessable, revocable token is the guard."""
    body = feeds.feed_calendar(db.session, feed_token, _host())
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="sessions.ics"', "Cache-Control": "private, max-age=300"})


# --------------------------------------------------------------------------------------------- screens


def _form_plan(form: Any) -> dict[str, Any]:
    """The generator form as the same JSON plan the API takes (or the plan a preview carried along)."""
    if form.get("plan_json"):
        try:
            data = json.loads(form["plan_json"])
        except ValueError:
            raise ValidationError("The previewed plan was damaged; preview again.", code="invalid_plan") from None
        if not isinstance(data, dict):
            raise ValidationError("The previewed plan was damaged; preview again.", code="invalid_plan")
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
            "weekdays": [int(d) for d in form.getlist("weekdays") if d.isdigit()], "slots": slots,
            "excluded_dates": excluded, "use_holidays": bool(form.get("use_holidays")),
            "on_conflict": form.get("on_conflict") or "skip"}


def _sessions_page(cohort_id: int, *, plan: dict[str, Any] | None = None, preview: dict[str, Any] | None = None,
                   errors: list[Any] | None = None, status: int = 200) -> Any:
    cohort = visible_cohort(db.session, user(), cohort_id, "sessions.manage")
    zone = scheduling.institution_zone(db.session, cohort.institution_id)
    stmt = scheduling.cohort_sessions_stmt(cohort.id, request.args.get("q"))
    listing = paginate(stmt, lambda s: s)
    rooms = db.session.scalars(select(Room).where(Room.institution_id == cohort.institution_id,
                                                  Room.is_active.is_(True)).order_by(Room.name)).all()
    return render_template(
        "scheduling/cohort_sessions.html", cohort=cohort, zone=zone, sessions=listing["items"],
        page=listing["page"], pages=listing["pages"], total=listing["total"], rooms=rooms,
        instructors=places.instructors(db.session, cohort.institution_id), types=list(SessionType),
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
        pv = scheduling.preview(db.session, user(), cohort_id, plan)
    except (ValidationError, Conflict) as exc:
        details = exc.details if isinstance(exc.details, list) else []
        return _sessions_page(cohort_id, plan=plan, errors=[exc.message, *[d["message"] for d in details]],
                              status=exc.http_status)
    return _sessions_page(cohort_id, plan=plan, preview=pv.to_json(db.session, limit=500))


@bp.post("/admin/cohorts/<int:cohort_id>/sessions/apply")
@requires("sessions.manage")
def cohort_sessions_apply(cohort_id: int) -> Any:
    plan = _form_plan(request.form)
    kind, outcome = _schedule(cohort_id, plan)
    if kind == "queued":
        flash("The plan is large: it is being applied in the background.", "info")
        return redirect(url_for("scheduling.schedule_run", run_id=outcome.id))
    result = outcome.preview.result
    flash(f"{len(outcome.created_ids)} session(s) created; {len(result.already_scheduled)} already scheduled; "
          f"{len(result.skipped)} skipped for a conflict.", "success")
    return redirect(url_for("scheduling.cohort_sessions", cohort_id=cohort_id))


@bp.get("/admin/schedule-runs/<int:run_id>")
@requires("sessions.manage")
def schedule_run(run_id: int) -> Any:
    run = scheduling.get_run(db.session, user(), run_id)
    return render_template("scheduling/run.html", run=_run_json(run),
                           status_url=url_for("scheduling.api_schedule_run", run_id=run.id),
                           back=url_for("scheduling.cohort_sessions", cohort_id=run.cohort_id))


@bp.route("/admin/class-sessions/<int:session_id>/edit", methods=["GET", "POST"])
@requires("sessions.manage")
def edit_session(session_id: int) -> Any:
    s = scheduling.visible_session(db.session, user(), session_id)
    if request.method == "POST":
        changes = {k: request.form.get(k) for k in ("session_date", "start_time", "end_time", "session_type",
                                                    "room_id", "instructor_id", "title", "location", "notes")
                   if k in request.form}
        scheduling.edit_session(db.session, user(), session_id, changes, grace_hours=_grace())
        flash("Session updated.", "success")
        return redirect(url_for("scheduling.cohort_sessions", cohort_id=s.cohort_id))
    rooms = db.session.scalars(select(Room).where(Room.institution_id == s.institution_id).order_by(Room.name)).all()
    locked = lock_states(db.session, [s], _grace())[s.id].locked
    return render_template("scheduling/edit_session.html", s=s, locked=locked, rooms=rooms, types=list(SessionType),
                           instructors=places.instructors(db.session, s.institution_id))


@bp.post("/admin/class-sessions/<int:session_id>/cancel")
@requires("sessions.manage")
def cancel_session(session_id: int) -> Any:
    s = scheduling.cancel_session(db.session, user(), session_id, request.form.get("reason") or None,
                                  grace_hours=_grace())
    flash(f"Session of {s.session_date:%d %b %Y} cancelled.", "success")
    return redirect(request.referrer or url_for("scheduling.cohort_sessions", cohort_id=s.cohort_id))


@bp.route("/admin/rooms", methods=["GET", "POST"])
@requires("sessions.manage")
def room_list() -> Any:
    if request.method == "POST":
        room = places.create_room(db.session, user(), {k: request.form.get(k) for k in ("name", "capacity",
                                                                                         "location")})
        flash(f"Room {room.name} added.", "success")
        return redirect(url_for("scheduling.room_list"))
    listing = paginate(places.rooms_stmt(user(), request.args.get("q"), include_inactive=True), lambda r: r)
    return render_template("scheduling/rooms.html", rooms=listing["items"], page=listing["page"],
                           pages=listing["pages"], q=request.args.get("q", ""))


@bp.post("/admin/rooms/<int:room_id>")
@requires("sessions.manage")
def room_update(room_id: int) -> Any:
    data: dict[str, Any] = {k: request.form.get(k) for k in ("name", "capacity", "location") if k in request.form}
    if "is_active" in request.form:
        data["is_active"] = request.form.get("is_active") == "1"
    room = places.update_room(db.session, user(), room_id, data)
    flash(f"Room {room.name} saved.", "success")
    return redirect(url_for("scheduling.room_list"))


@bp.route("/admin/holidays", methods=["GET", "POST"])
@requires("sessions.manage")
def holiday_list() -> Any:
    if request.method == "POST":
        holiday = places.create_holiday(db.session, user(), {k: request.form.get(k) for k in ("date", "name")})
        flash(f"{holiday.date:%d %b %Y} ({holiday.name}) added.", "success")
        return redirect(url_for("scheduling.holiday_list"))
    listing = paginate(places.holidays_stmt(user(), _year_arg(), request.args.get("q")), lambda h: h)
    return render_template("scheduling/holidays.html", holidays=listing["items"], page=listing["page"],
                           pages=listing["pages"], q=request.args.get("q", ""))


@bp.post("/admin/holidays/<int:holiday_id>/delete")
@requires("sessions.manage")
def holiday_delete(holiday_id: int) -> Any:
    places.delete_holiday(db.session, user(), holiday_id)
    flash("Holiday removed.", "success")
    return redirect(url_for("scheduling.holiday_list"))


@bp.get("/institution/attendance/calendar")
@requires("sessions.view")
def calendar() -> Any:
    cohorts = db.session.scalars(select(Cohort).where(cohort_filter(user())).order_by(Cohort.name)).all()
    rooms = db.session.scalars(select(Room).where(Room.institution_id == user().institution_id)
                               .order_by(Room.name)).all()
    return render_template("scheduling/calendar.html", cohorts=cohorts, rooms=rooms,
                           instructors=places.instructors(db.session, user().institution_id),
                           zone=scheduling.institution_zone(db.session, user().institution_id or 0))


@bp.route("/institution/attendance/calendar/feeds", methods=["GET", "POST"])
@requires("sessions.view")
def feed_list() -> Any:
    new_url = None
    if request.method == "POST":
        _row, token = feeds.create_feed(db.session, user(), {"kind": request.form.get("kind"),
                                                             "subject_id": request.form.get("subject_id")})
        new_url = _feed_url(token)
        flash("Feed created. Copy its address now: it is shown only once.", "success")
    cohorts = db.session.scalars(select(Cohort).where(cohort_filter(user())).order_by(Cohort.name)).all()
    rooms = db.session.scalars(select(Room).where(Room.institution_id == user().institution_id)
                               .order_by(Room.name)).all()
    return render_template("scheduling/feeds.html", feeds=feeds.feeds_for(db.session, user()), new_url=new_url,
                           cohorts=cohorts, rooms=rooms,
                           instructors=places.instructors(db.session, user().institution_id))


@bp.post("/institution/attendance/calendar/feeds/<int:token_id>/revoke")
@requires("sessions.view")
def feed_revoke(token_id: int) -> Any:
    feeds.revoke_feed(db.session, user(), token_id)
    flash("Feed revoked: calendars subscribed to it stop updating.", "success")
    return redirect(url_for("scheduling.feed_list"))

