"""The calendar: sessions in a window as events, filtered by what the caller may see."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from core import clock
from core.access.scoping import session_filter
from core.attendance import marking
from core.attendance.roster import marked_counts, roster_sizes
from core.errors import ValidationError
from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    CorporateAttendanceRecord,
    Institution,
    Room,
    SessionStatus,
    User,
)
from core.scheduling.planner import as_utc

MAX_DAYS = 100


def _bound(value: str | None, name: str, zone: ZoneInfo) -> dt.datetime:
    if not value:
        raise ValidationError(f"Give {name} (a date YYYY-MM-DD or an ISO 8601 date-time).", code="invalid_window")
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=zone)
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name} must be a date or an ISO 8601 date-time (got {value!r}).",
                              code="invalid_window") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _optional_int(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValidationError(f"{name} must be a number.", code="invalid_filter") from None


def _marked_counts(session: Session, stmt: Select) -> dict[int, int]:
    """Records per session for a big window: the window's ids as a subquery, not thousands of parameters.

    Same two tables as core.attendance.roster.marked_counts (a session's records live in exactly one).
    """
    ids = stmt.with_only_columns(ClassSession.id).order_by(None).scalar_subquery()
    counts: dict[int, int] = {}
    for table in (AttendanceRecord, CorporateAttendanceRecord):
        for sid, n in session.execute(select(table.session_id, func.count()).where(table.session_id.in_(ids))
                                      .group_by(table.session_id)):
            counts[sid] = counts.get(sid, 0) + n
    return counts


def calendar_events(session: Session, user: User, args: dict[str, str | None], grace_hours: int = 24
                    ) -> dict[str, Any]:
    """Events in [start, end): a date `end` is exclusive. Cancelled sessions only with include_cancelled=1.
    `locked` is the lock rule (by hand, or past the cut-off), the same the register and the API show."""
    zone_name = session.scalar(select(Institution.time_zone).where(Institution.id == user.institution_id)) or "UTC"
    zone = ZoneInfo(zone_name)
    start, end = _bound(args.get("start"), "start", zone), _bound(args.get("end"), "end", zone)
    if end <= start:
        raise ValidationError("end must be after start.", code="invalid_window")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise ValidationError(f"A calendar window is at most {MAX_DAYS} days.", code="invalid_window")
    instructor = aliased(User)
    stmt = (
        select(ClassSession.id, ClassSession.title, ClassSession.starts_at, ClassSession.ends_at,
               ClassSession.session_type, ClassSession.status, ClassSession.is_locked, ClassSession.cohort_id,
               Cohort.name, ClassSession.room_id, Room.name, ClassSession.instructor_id, instructor.full_name,
               ClassSession.session_date, ClassSession.slot, ClassSession.relock_after, Institution.time_zone)
        .join(Cohort, Cohort.id == ClassSession.cohort_id)
        .join(Institution, Institution.id == ClassSession.institution_id)
        .outerjoin(Room, Room.id == ClassSession.room_id)
        .outerjoin(instructor, instructor.id == ClassSession.instructor_id)
        .where(session_filter(user), ClassSession.starts_at < end.astimezone(dt.UTC),
               ClassSession.ends_at > start.astimezone(dt.UTC))
        .order_by(ClassSession.starts_at, ClassSession.id)
    )
    if args.get("include_cancelled") not in ("1", "true", "yes"):
        stmt = stmt.where(ClassSession.status != SessionStatus.CANCELLED)
    for name, column in (("cohort", ClassSession.cohort_id), ("room", ClassSession.room_id),
                         ("instructor", ClassSession.instructor_id)):
        value = _optional_int(args.get(name), name)
        if value is not None:
            stmt = stmt.where(column == value)
    rows = session.connection().execute(stmt).all()  # Core rows: no ORM loading for thousands of tuples
    marks = _marked_counts(session, stmt) if len(rows) > 500 else marked_counts(session, [r[0] for r in rows])
    sizes = roster_sizes(session, [r[7] for r in rows])
    # Many sessions share start times, cohorts, rooms and instructors: format each once.
    local: dict[dt.datetime, str] = {}
    cohorts: dict[int, dict[str, Any]] = {}
    rooms: dict[int, dict[str, Any]] = {}
    people: dict[int, dict[str, Any]] = {}
    titles: dict[tuple[str, str], str] = {}

    def when(instant: dt.datetime) -> str:
        text = local.get(instant)
        if text is None:
            text = local[instant] = as_utc(instant).astimezone(zone).isoformat()
        return text

    events = []
    now, grace = clock.now(), dt.timedelta(hours=grace_hours)
    for (sid, title, starts_at, ends_at, stype, status, locked, cohort_id, cohort_name, room_id, room_name,
         instructor_id, instructor_name, day, slot, relock_after, session_zone) in rows:
        if not title:
            title = titles.get((cohort_name, stype))
            if title is None:
                title = titles[(cohort_name, stype)] = f"{cohort_name} · {stype.label}"
        events.append({
            "id": sid, "title": title, "start": when(starts_at), "end": when(ends_at),
            "type": stype.value, "type_label": stype.label, "status": status.value, "slot": slot,
            "locked": locked or (as_utc(ends_at) + grace <= now and marking.locked_now(  # else: cut-off ahead
                False, marking.auto_lock_at(day, as_utc(ends_at), session_zone or "UTC", grace_hours),
                as_utc(relock_after) if relock_after else None, now)),
            "cohort": cohorts.get(cohort_id) or cohorts.setdefault(cohort_id, {"id": cohort_id, "name": cohort_name}),
            "room": (rooms.get(room_id) or rooms.setdefault(room_id, {"id": room_id, "name": room_name}))
            if room_id else None,
            "instructor": (people.get(instructor_id)
                           or people.setdefault(instructor_id, {"id": instructor_id, "name": instructor_name}))
            if instructor_id else None,
            "marked": marks.get(sid, 0), "roster": sizes.get(cohort_id, 0),
        })
    return {"items": events, "total": len(events), "time_zone": zone_name,
            "start": start.isoformat(), "end": end.isoformat()}
