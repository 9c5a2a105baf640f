"""Scheduling services: preview and apply a plan, background runs, single-session edit and cancel.

Each public function is one transaction (it commits, or raises with nothing written). The pure
rules live in planner.py; this module reads what they need, writes what they decide, and turns
PostgreSQL's exclusion-constraint violations (two writers racing for one room) into a Conflict.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.access.scoping import cohort_filter, visible_cohort
from core.attendance import locking
from core.attendance.roster import marked_counts, roster_sizes
from core.db import is_postgres
from core.errors import Conflict, Locked, NotFound, ValidationError
from core.models import (
    ClassSession,
    Cohort,
    CohortStatus,
    Holiday,
    Institution,
    Role,
    Room,
    SessionStatus,
    SessionType,
    User,
)
from core.models.sessions import ScheduleRun, ScheduleRunStatus

from .jobs import APPLY_PLAN
from .planner import (
    Busy,
    Clash,
    OnConflict,
    Plan,
    PlannedSession,
    PlanResult,
    Slot,
    as_utc,
    check,
    expand,
    validate_plan,
)

try:  # the PostgreSQL driver; absent on a SQLite-only install
    from psycopg import errors as pg_errors

    ExclusionViolation: type[Exception] | None = pg_errors.ExclusionViolation
    DRIVER_ERRORS: tuple[type[Exception], ...] = (pg_errors.IntegrityError,)
except ImportError:  # pragma: no cover
    ExclusionViolation = None
    DRIVER_ERRORS = ()

EXCLUSION_SQLSTATE = "23P01"
WEEKDAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DEFAULT_INLINE_LIMIT = 1000
INSERT_CHUNK = 2000


# ---------------------------------------------------------------------------------------------
# Reading a plan from JSON / a form


def _date(value: Any, name: str, problems: list[dict[str, str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append({"field": name, "message": f"{name} must be a date YYYY-MM-DD (got {value!r})."})
        return None


def _time(value: Any, name: str, problems: list[dict[str, str]]) -> dt.time | None:
    try:
        parsed = dt.time.fromisoformat(str(value))
        return parsed.replace(tzinfo=None, microsecond=0)
    except ValueError:
        problems.append({"field": name, "message": f"{name} must be a time HH:MM (got {value!r})."})
        return None


def _optional_id(value: Any, name: str, problems: list[dict[str, str]]) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        problems.append({"field": name, "message": f"{name} must be a number."})
        return None


def _weekdays(value: Any, problems: list[dict[str, str]]) -> frozenset[int]:
    if value is None:
        return frozenset(range(5))
    if not isinstance(value, list):
        problems.append({"field": "weekdays", "message": "weekdays is a list: 0 (Monday) … 6 (Sunday) or mon … sun."})
        return frozenset()
    days = set()
    for item in value:
        if isinstance(item, str) and item[:3].lower() in WEEKDAY_NAMES:
            days.add(WEEKDAY_NAMES[item[:3].lower()])
        elif isinstance(item, int | str) and str(item).isdigit() and 0 <= int(item) <= 6:
            days.add(int(item))
        else:
            problems.append({"field": "weekdays", "message": f"Not a weekday: {item!r}."})
    return frozenset(days)


@dataclass
class ParsedPlan:
    plan: Plan
    use_holidays: bool
    adhoc_dates: frozenset[dt.date]


def parse_plan(data: Any, cohort: Cohort, zone: str) -> ParsedPlan:
    """The plan in `data` (JSON-like), with defaults from the cohort. ValidationError lists every problem."""
    if not isinstance(data, dict):
        raise ValidationError("Send the plan as a JSON object.", code="invalid_plan")
    problems: list[dict[str, str]] = []
    start = _date(data.get("start_date"), "start_date", problems) or cohort.start_date
    end = _date(data.get("end_date"), "end_date", problems) or cohort.end_date
    if start is None or end is None:
        problems.append({"field": "start_date", "message": "Give start_date and end_date (the cohort has none)."})
    weekdays = _weekdays(data.get("weekdays"), problems)
    raw_slots = data.get("slots")
    slots: list[Slot] = []
    if not isinstance(raw_slots, list) or not raw_slots:
        problems.append({"field": "slots", "message": "Give one or two slots: start, end, session_type, room_id, "
                                                      "instructor_id."})
        raw_slots = []
    for n, raw in enumerate(raw_slots[:3], start=1):
        name = f"slots[{n - 1}]"
        if not isinstance(raw, dict):
            problems.append({"field": name, "message": "Each slot is an object."})
            continue
        s_start = _time(raw.get("start"), f"{name}.start", problems)
        s_end = _time(raw.get("end"), f"{name}.end", problems)
        try:
            s_type = SessionType(str(raw.get("session_type") or "THEORY").upper())
        except ValueError:
            problems.append({"field": f"{name}.session_type",
                             "message": f"session_type is one of {', '.join(t.value for t in SessionType)}."})
            s_type = SessionType.THEORY
        room_id = _optional_id(raw.get("room_id"), f"{name}.room_id", problems)
        instructor_id = _optional_id(raw.get("instructor_id"), f"{name}.instructor_id", problems)
        if s_start and s_end:
            slots.append(Slot(s_start, s_end, s_type, room_id, instructor_id))
    excluded_raw = data.get("excluded_dates") or []
    if not isinstance(excluded_raw, list):
        problems.append({"field": "excluded_dates", "message": "excluded_dates is a list of dates."})
        excluded_raw = []
    adhoc = frozenset(d for i, v in enumerate(excluded_raw)
                      if (d := _date(v, f"excluded_dates[{i}]", problems)) is not None)
    try:
        on_conflict = OnConflict(str(data.get("on_conflict") or "skip").lower())
    except ValueError:
        problems.append({"field": "on_conflict", "message": "on_conflict is skip or refuse."})
        on_conflict = OnConflict.SKIP
    if problems:
        raise ValidationError("The plan has problems.", code="invalid_plan", details=problems)
    assert start is not None and end is not None
    plan = Plan(cohort_id=cohort.id, start_date=start, end_date=end, weekdays=weekdays, slots=tuple(slots),
                zone=zone, excluded_dates=adhoc, on_conflict=on_conflict)
    shape = validate_plan(plan)
    if shape:
        raise ValidationError("The plan has problems.", code="invalid_plan",
                              details=[{"field": "plan", "message": m} for m in shape])
    return ParsedPlan(plan, bool(data.get("use_holidays", True)), adhoc)


# ---------------------------------------------------------------------------------------------
# Shared reads


def institution_zone(session: Session, institution_id: int) -> str:
    return session.scalar(select(Institution.time_zone).where(Institution.id == institution_id)) or "UTC"


def _holidays(session: Session, institution_id: int, start: dt.date, end: dt.date) -> frozenset[dt.date]:
    return frozenset(session.scalars(select(Holiday.date).where(
        Holiday.institution_id == institution_id, Holiday.date.between(start, end))))


def _check_resources(session: Session, institution_id: int, slots: Iterable[Slot]) -> None:
    room_ids = {s.room_id for s in slots if s.room_id is not None}
    instructor_ids = {s.instructor_id for s in slots if s.instructor_id is not None}
    problems = []
    if room_ids:
        found = set(session.scalars(select(Room.id).where(Room.id.in_(room_ids), Room.institution_id == institution_id,
                                                          Room.is_active.is_(True))))
        problems += [{"field": "room_id", "message": f"No active room {rid} in this institution."}
                     for rid in sorted(room_ids - found)]
    if instructor_ids:
        found = set(session.scalars(select(User.id).where(
            User.id.in_(instructor_ids), User.institution_id == institution_id, User.role == Role.TEACHER,
            User.active.is_(True))))
        problems += [{"field": "instructor_id", "message": f"User {uid} is not an active instructor (teacher) here."}
                     for uid in sorted(instructor_ids - found)]
    if problems:
        raise ValidationError("The plan names unknown rooms or instructors.", code="invalid_plan", details=problems)


def busy_sessions(session: Session, planned: Sequence[PlannedSession], exclude_id: int | None = None) -> list[Busy]:
    """Non-cancelled sessions overlapping the plan's span that share its cohort, a room or an instructor."""
    if not planned:
        return []
    lo = min(p.starts_at for p in planned)
    hi = max(p.ends_at for p in planned)
    cohorts = {p.cohort_id for p in planned}
    rooms = {p.room_id for p in planned if p.room_id is not None}
    instructors = {p.instructor_id for p in planned if p.instructor_id is not None}
    shares = [ClassSession.cohort_id.in_(cohorts)]
    if rooms:
        shares.append(ClassSession.room_id.in_(rooms))
    if instructors:
        shares.append(ClassSession.instructor_id.in_(instructors))
    stmt = select(ClassSession.id, ClassSession.cohort_id, ClassSession.room_id, ClassSession.instructor_id,
                  ClassSession.starts_at, ClassSession.ends_at).where(
        ClassSession.status != SessionStatus.CANCELLED, ClassSession.starts_at < hi, ClassSession.ends_at > lo,
        or_(*shares))
    if exclude_id is not None:
        stmt = stmt.where(ClassSession.id != exclude_id)
    return [Busy(sid, cohort_id, room_id, instructor_id, as_utc(starts_at), as_utc(ends_at))
            for sid, cohort_id, room_id, instructor_id, starts_at, ends_at in session.execute(stmt)]


# ---------------------------------------------------------------------------------------------
# Presenting results


class _Names:
    """Names for rooms, instructors and cohorts mentioned in a result, fetched in three queries."""

    def __init__(self, session: Session, zone: str, room_ids: set[int], user_ids: set[int], cohort_ids: set[int]):
        self.zone = ZoneInfo(zone)
        self.rooms = dict(session.execute(select(Room.id, Room.name).where(Room.id.in_(room_ids))).all()) \
            if room_ids else {}
        self.users = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all()) \
            if user_ids else {}
        self.cohorts = dict(session.execute(select(Cohort.id, Cohort.name).where(Cohort.id.in_(cohort_ids))).all()) \
            if cohort_ids else {}

    @classmethod
    def for_result(cls, session: Session, zone: str, items: Iterable[PlannedSession | Busy]) -> _Names:
        rooms, users, cohorts = set(), set(), set()
        for item in items:
            cohorts.add(item.cohort_id)
            if item.room_id is not None:
                rooms.add(item.room_id)
            if item.instructor_id is not None:
                users.add(item.instructor_id)
        return cls(session, zone, rooms, users, cohorts)

    def local(self, instant: dt.datetime) -> dt.datetime:
        return as_utc(instant).astimezone(self.zone)

    def resource(self, kind: str, rid: int) -> str:
        if kind == "room":
            return self.rooms.get(rid, f"room {rid}")
        if kind == "instructor":
            return self.users.get(rid, f"instructor {rid}")
        return self.cohorts.get(rid, f"cohort {rid}")


def planned_json(p: PlannedSession, names: _Names) -> dict[str, Any]:
    return {
        "date": p.session_date.isoformat(), "slot": p.slot,
        "start_time": p.start_time.strftime("%H:%M"), "end_time": p.end_time.strftime("%H:%M"),
        "starts_at": names.local(p.starts_at).isoformat(), "ends_at": names.local(p.ends_at).isoformat(),
        "session_type": p.session_type.value, "session_type_label": p.session_type.label, "cohort_id": p.cohort_id,
        "room_id": p.room_id, "room": names.rooms.get(p.room_id) if p.room_id else None,
        "instructor_id": p.instructor_id, "instructor": names.users.get(p.instructor_id) if p.instructor_id else None,
    }


def clash_json(c: Clash, names: _Names) -> dict[str, Any]:
    """One resource's clash (room, instructor or cohort), as listed under its planned session."""
    p, other = c.planned, c.other
    o_start, o_end = names.local(other.starts_at), names.local(other.ends_at)
    in_plan = isinstance(other, PlannedSession)
    who = names.resource(c.resource.value, c.resource_id)
    with_what = (f"slot {other.slot} of this plan" if in_plan
                 else f"session {other.session_id} ({names.cohorts.get(other.cohort_id, 'another cohort')})")
    return {
        "resource": c.resource.value, "resource_id": c.resource_id, "resource_name": who,
        "clashes_with": {
            "session_id": None if in_plan else other.session_id, "in_this_plan": in_plan,
            "cohort_id": other.cohort_id, "cohort": names.cohorts.get(other.cohort_id),
            "date": o_start.date().isoformat(), "start_time": o_start.strftime("%H:%M"),
            "end_time": o_end.strftime("%H:%M"),
        },
        "message": (f"{c.resource.value.capitalize()} {who} is busy on {p.session_date.isoformat()} "
                    f"{p.start_time:%H:%M}–{p.end_time:%H:%M}: it clashes with {with_what}, "
                    f"{o_start:%Y-%m-%d %H:%M}–{o_end:%H:%M}."),
    }


def conflicts_json(result: PlanResult, names: _Names) -> list[dict[str, Any]]:
    """One item per session skipped, listing every resource that clashed (a room and an instructor busy at
    once is one session skipped, with two clashes)."""
    return [{
        "date": p.session_date.isoformat(), "slot": p.slot,
        "start_time": p.start_time.strftime("%H:%M"), "end_time": p.end_time.strftime("%H:%M"),
        "session_type": p.session_type.value, "session_type_label": p.session_type.label,
        "resources": [c.resource.value for c in clashes],
        "clashes": [clash_json(c, names) for c in clashes],
        "message": " ".join(clash_json(c, names)["message"] for c in clashes),
    } for p, clashes in result.skipped.items()]


def _names_for(session: Session, zone: str, result: PlanResult) -> _Names:
    items: list[PlannedSession | Busy] = [*result.to_create, *result.already_scheduled]
    for c in result.clashes:
        items += [c.planned, c.other]
    return _Names.for_result(session, zone, items)


# ---------------------------------------------------------------------------------------------
# Preview and apply


@dataclass
class Preview:
    cohort: Cohort
    zone: str
    parsed: ParsedPlan
    result: PlanResult
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, session: Session, limit: int | None = None) -> dict[str, Any]:
        names = _names_for(session, self.zone, self.result)
        sessions = self.result.to_create if limit is None else self.result.to_create[:limit]
        return {
            "cohort_id": self.cohort.id, "time_zone": self.zone,
            "on_conflict": self.parsed.plan.on_conflict.value,
            "planned_count": self.result.planned_count,
            "to_create_count": len(self.result.to_create),
            "already_scheduled_count": len(self.result.already_scheduled),
            "conflict_count": len(self.result.skipped),  # sessions skipped, not clashes per resource
            "refused": self.result.refused,
            "sessions": [planned_json(p, names) for p in sessions],
            "conflicts": conflicts_json(self.result, names),
            "warnings": self.warnings,
        }


def _capacity_warnings(session: Session, cohort: Cohort, slots: Iterable[Slot]) -> list[dict[str, Any]]:
    room_ids = {s.room_id for s in slots if s.room_id is not None}
    if not room_ids:
        return []
    trainees = max(roster_sizes(session, [cohort.id]).get(cohort.id, 0), cohort.expected_trainee_count or 0)
    rooms = session.execute(select(Room.id, Room.name, Room.capacity).where(Room.id.in_(room_ids))).all()
    return [{"code": "room_capacity", "room_id": rid, "room": name, "capacity": capacity, "trainees": trainees,
             "message": f"{name} seats {capacity} but the cohort has {trainees} trainees."}
            for rid, name, capacity in rooms if capacity is not None and capacity < trainees]


def _plan_for_cohort(session: Session, cohort: Cohort, data: Any) -> Preview:
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.ARCHIVED):
        raise Conflict(f"Cohort {cohort.name} is {cohort.status.value.lower()}: it can't be scheduled.",
                       code="cohort_closed")
    zone = institution_zone(session, cohort.institution_id)
    parsed = parse_plan(data, cohort, zone)
    _check_resources(session, cohort.institution_id, parsed.plan.slots)
    plan = parsed.plan
    if parsed.use_holidays:
        holidays = _holidays(session, cohort.institution_id, plan.start_date, plan.end_date)
        plan = dataclasses.replace(plan, excluded_dates=plan.excluded_dates | holidays)
        parsed = ParsedPlan(plan, parsed.use_holidays, parsed.adhoc_dates)
    planned = expand(plan)
    result = check(planned, busy_sessions(session, planned), plan.on_conflict)
    return Preview(cohort, zone, parsed, result, _capacity_warnings(session, cohort, plan.slots))


def preview(session: Session, user: User, cohort_id: int, data: Any) -> Preview:
    """What applying `data` would do: sessions, clashes, warnings. Writes nothing."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    return _plan_for_cohort(session, cohort, data)


@dataclass
class Applied:
    preview: Preview
    created_ids: list[int]


def _is_exclusion_violation(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps driver errors; COPY raises them bare
    if ExclusionViolation is not None and isinstance(orig, ExclusionViolation):
        return True
    return getattr(orig, "sqlstate", None) == EXCLUSION_SQLSTATE


def _exclusion_conflict(session: Session, exc: Exception, planned: Sequence[PlannedSession], zone: str,
                        exclude_id: int | None = None) -> Conflict:
    """Another writer got there first. Look again (its rows are committed now) to name the clash."""
    session.rollback()
    result = check(planned, busy_sessions(session, planned, exclude_id))
    names = _names_for(session, zone, result)
    clashes = conflicts_json(result, names)
    constraint = getattr(getattr(getattr(exc, "orig", exc), "diag", None), "constraint_name", None)
    message = clashes[0]["message"] if clashes else "Another change booked the same room, instructor or cohort " \
                                                    "at the same time. Nothing was written; try again."
    return Conflict(message, code="schedule_conflict", details={"conflicts": clashes, "constraint": constraint})


def _rows(institution_id: int, planned: Sequence[PlannedSession]) -> list[dict[str, Any]]:
    now = clock.now()
    return [{
        "institution_id": institution_id, "cohort_id": p.cohort_id, "session_date": p.session_date,
        "start_time": p.start_time, "end_time": p.end_time, "starts_at": p.starts_at, "ends_at": p.ends_at,
        "slot": p.slot, "session_type": p.session_type, "title": None, "room_id": p.room_id,
        "instructor_id": p.instructor_id, "location": None, "notes": None, "status": SessionStatus.SCHEDULED,
        "is_locked": False, "created_at": now, "updated_at": now,
    } for p in planned]


COPY_COLUMNS = ("id", "institution_id", "cohort_id", "session_date", "start_time", "end_time", "starts_at", "ends_at",
                "slot", "session_type", "room_id", "instructor_id", "status", "is_locked", "created_at", "updated_at")


def insert_sessions(session: Session, institution_id: int, planned: Sequence[PlannedSession],
                    progress: Callable[[int, int], None] | None = None) -> list[int]:
    """Write planned sessions in the session's transaction; returns their ids in plan order.

    PostgreSQL: ids drawn from the sequence in one query, then COPY in chunks (the exclusion
    constraints still check every row). Elsewhere: multi-row INSERTs (insertmanyvalues).
    """
    if not planned:
        return []
    locking.reopen_sweep(session, min(p.ends_at for p in planned))  # past dates: the next sweep records them
    if is_postgres(session):
        return _copy_sessions(session, institution_id, planned, progress)
    table = ClassSession.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    rows = _rows(institution_id, planned)
    for start in range(0, len(rows), INSERT_CHUNK):
        ids += session.scalars(stmt, rows[start:start + INSERT_CHUNK]).all()
        if progress is not None:
            progress(len(ids), len(rows))
    return ids


def _copy_sessions(session: Session, institution_id: int, planned: Sequence[PlannedSession],
                   progress: Callable[[int, int], None] | None) -> list[int]:
    ids = sorted(session.scalars(
        text("SELECT nextval(pg_get_serial_sequence('class_sessions', 'id')) FROM generate_series(1, :n)"),
        {"n": len(planned)}).all())
    now = clock.now()
    scheduled = SessionStatus.SCHEDULED.value
    raw = session.connection().connection.driver_connection  # the same connection, the same transaction
    copy_sql = f"COPY class_sessions ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor:
        for start in range(0, len(planned), INSERT_CHUNK):
            with cursor.copy(copy_sql) as copy:
                for sid, p in zip(ids[start:start + INSERT_CHUNK], planned[start:start + INSERT_CHUNK], strict=True):
                    copy.write_row((sid, institution_id, p.cohort_id, p.session_date, p.start_time, p.end_time,
                                    p.starts_at, p.ends_at, p.slot, p.session_type.value, p.room_id, p.instructor_id,
                                    scheduled, False, now, now))
            if progress is not None:
                progress(min(start + INSERT_CHUNK, len(planned)), len(planned))
    return ids


def _write(session: Session, actor_id: int | None, pv: Preview,
           progress: Callable[[int, int], None] | None = None) -> list[int]:
    if pv.result.refused:
        names = _names_for(session, pv.zone, pv.result)
        clashes = conflicts_json(pv.result, names)
        raise Conflict(f"{len(clashes)} session(s) of the plan clash and on_conflict is refuse: nothing was written. "
                       f"First: {clashes[0]['message']}", code="schedule_conflict", details={"conflicts": clashes})
    try:
        ids = insert_sessions(session, pv.cohort.institution_id, pv.result.to_create, progress)
        if ids:
            audit.record(session, actor_id=actor_id, action="schedule.apply", entity_type="cohort",
                         entity_id=pv.cohort.id, after={"created": len(ids), "first_id": ids[0], "last_id": ids[-1]},
                         context={"skipped_conflicts": len(pv.result.skipped),
                                  "already_scheduled": len(pv.result.already_scheduled)})
        session.flush()
    except (IntegrityError, *DRIVER_ERRORS) as exc:
        if _is_exclusion_violation(exc):
            raise _exclusion_conflict(session, exc, pv.result.to_create, pv.zone) from None
        raise
    return ids


def apply(session: Session, user: User, cohort_id: int, data: Any) -> Applied:
    """Write the plan's sessions in one transaction. Re-applying the same plan creates nothing new."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    pv = _plan_for_cohort(session, cohort, data)
    ids = _write(session, user.id, pv)
    try:
        session.commit()
    except IntegrityError as exc:  # deferred checks surface at commit on some backends
        if _is_exclusion_violation(exc):
            raise _exclusion_conflict(session, exc, pv.result.to_create, pv.zone) from None
        raise
    return Applied(pv, ids)


def start_run(session: Session, user: User, cohort_id: int, data: Any) -> ScheduleRun:
    """Record a large plan to apply in the background (a core.jobs job, sent after commit)."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    pv = _plan_for_cohort(session, cohort, data)  # validate now: a bad plan is a 422 here, not a failed run
    run = ScheduleRun(institution_id=cohort.institution_id, cohort_id=cohort.id, requested_by_id=user.id,
                      plan=dict(data), status=ScheduleRunStatus.PENDING, planned_count=pv.result.planned_count)
    session.add(run)
    session.flush()
    jobs.enqueue(session, APPLY_PLAN, run.id)
    session.commit()
    return run


def planned_size(session: Session, user: User, cohort_id: int, data: Any) -> int:
    """How many sessions the plan expands to (cheap: no conflict checks), to choose inline vs background."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    parsed = parse_plan(data, cohort, institution_zone(session, cohort.institution_id))
    return len(expand(parsed.plan))


def _set_progress(session: Session, run_id: int, percent: int) -> None:
    """Progress from a second connection, so readers see it while the run's one transaction is open."""
    if not is_postgres(session):
        return  # SQLite has one writer: the run's own transaction holds it
    with session.get_bind().connect() as conn:
        conn.execute(update(ScheduleRun).where(ScheduleRun.id == run_id).values(progress=percent))
        conn.commit()


def execute_run(session: Session, run_id: int) -> ScheduleRun:
    """Apply a recorded plan. Idempotent: a finished run is left alone; a re-run creates nothing twice."""
    run = session.get(ScheduleRun, run_id)
    if run is None:
        raise NotFound(f"No schedule run {run_id}.")
    if run.status in (ScheduleRunStatus.SUCCEEDED, ScheduleRunStatus.FAILED):
        return run
    run.status, run.progress = ScheduleRunStatus.RUNNING, 5
    session.commit()
    try:
        cohort = session.get(Cohort, run.cohort_id)
        if cohort is None:
            raise NotFound("The cohort is gone.")
        pv = _plan_for_cohort(session, cohort, run.plan)
        _set_progress(session, run_id, 30)
        ids = _write(session, run.requested_by_id, pv,
                     progress=lambda done, total: _set_progress(session, run_id, 30 + 65 * done // max(total, 1)))
        names = _names_for(session, pv.zone, pv.result)
        run = session.get(ScheduleRun, run_id)  # type: ignore[assignment]
        run.status, run.progress, run.finished_at = ScheduleRunStatus.SUCCEEDED, 100, clock.now()
        run.created_count, run.existing_count = len(ids), len(pv.result.already_scheduled)
        run.planned_count = pv.result.planned_count
        run.conflicts = {"items": conflicts_json(pv.result, names)}
        session.commit()
    except (Conflict, ValidationError, NotFound, Locked) as exc:
        session.rollback()
        run = session.get(ScheduleRun, run_id)  # type: ignore[assignment]
        run.status, run.error, run.finished_at = ScheduleRunStatus.FAILED, exc.message, clock.now()
        details = exc.details if isinstance(exc.details, dict) else {}
        run.conflicts = {"items": details.get("conflicts", [])}
        session.commit()
    return run


def run_json(run: ScheduleRun) -> dict[str, Any]:
    return {"id": run.id, "cohort_id": run.cohort_id, "status": run.status.value, "progress": run.progress,
            "planned_count": run.planned_count, "created_count": run.created_count,
            "already_scheduled_count": run.existing_count,
            "conflicts": (run.conflicts or {}).get("items", []), "error": run.error,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


def get_run(session: Session, user: User, run_id: int) -> ScheduleRun:
    run = session.get(ScheduleRun, run_id)
    if run is None:
        raise NotFound("No such schedule run.")
    visible_cohort(session, user, run.cohort_id, "sessions.manage")
    return run


# ---------------------------------------------------------------------------------------------
# One session: edit, reschedule, cancel


def visible_session(session: Session, user: User, session_id: int) -> ClassSession:
    found = session.scalar(select(ClassSession).join(Cohort, Cohort.id == ClassSession.cohort_id)
                           .where(ClassSession.id == session_id, cohort_filter(user)))
    if found is None:
        raise NotFound("No such session, or it is not one you can see.")
    return found


def session_json(s: ClassSession, zone: str, grace_hours: int = 24) -> dict[str, Any]:
    z = ZoneInfo(zone)
    return {
        "id": s.id, "cohort_id": s.cohort_id, "date": s.session_date.isoformat(), "slot": s.slot,
        "start_time": s.start_time.strftime("%H:%M"), "end_time": s.end_time.strftime("%H:%M"),
        "starts_at": as_utc(s.starts_at).astimezone(z).isoformat(),
        "ends_at": as_utc(s.ends_at).astimezone(z).isoformat(),
        "session_type": s.session_type.value, "title": s.title, "room_id": s.room_id,
        "room": s.room.name if s.room else None, "instructor_id": s.instructor_id,
        "instructor": s.instructor.full_name if s.instructor else None, "location": s.location, "notes": s.notes,
        "status": s.status.value, "locked": locking.lock_state(s, zone, grace_hours).locked,
    }


EDITABLE = {"session_date", "date", "start_time", "end_time", "session_type", "room_id", "instructor_id", "title",
            "location", "notes"}
MOVES = {"session_date", "start_time", "end_time", "room_id", "instructor_id"}


def _snapshot(s: ClassSession) -> dict[str, Any]:
    return {"session_date": s.session_date.isoformat(), "start_time": s.start_time.strftime("%H:%M"),
            "end_time": s.end_time.strftime("%H:%M"), "room_id": s.room_id, "instructor_id": s.instructor_id,
            "session_type": s.session_type.value, "title": s.title, "location": s.location, "notes": s.notes,
            "status": s.status.value}


def edit_session(session: Session, user: User, session_id: int, changes: Any, *, grace_hours: int = 24
                 ) -> ClassSession:
    """Edit or reschedule one session, with the same conflict checks as the generator."""
    s = visible_session(session, user, session_id)
    if not isinstance(changes, dict) or not changes:
        raise ValidationError("Send the fields to change as a JSON object.", code="invalid_changes")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="invalid_changes",
                              details={"editable": sorted(EDITABLE - {'date'})})
    if "date" in changes:
        changes = {**changes, "session_date": changes.pop("date")}
    if s.status == SessionStatus.CANCELLED:
        raise Conflict("This session is cancelled; it can't be edited.", code="session_cancelled")
    problems: list[dict[str, str]] = []
    new = {
        "session_date": _date(changes["session_date"], "session_date", problems) if "session_date" in changes
        else s.session_date,
        "start_time": _time(changes["start_time"], "start_time", problems) if "start_time" in changes
        else s.start_time,
        "end_time": _time(changes["end_time"], "end_time", problems) if "end_time" in changes else s.end_time,
        "room_id": _optional_id(changes["room_id"], "room_id", problems) if "room_id" in changes else s.room_id,
        "instructor_id": _optional_id(changes["instructor_id"], "instructor_id", problems)
        if "instructor_id" in changes else s.instructor_id,
    }
    if "session_date" in changes and new["session_date"] is None:
        problems.append({"field": "session_date", "message": "session_date can't be empty."})
    session_type = s.session_type
    if "session_type" in changes:
        try:
            session_type = SessionType(str(changes["session_type"]).upper())
        except ValueError:
            problems.append({"field": "session_type",
                             "message": f"session_type is one of {', '.join(t.value for t in SessionType)}."})
    texts = {}
    for name, limit in (("title", 200), ("location", 200), ("notes", 5000)):
        if name in changes:
            value = changes[name]
            if value is not None and not isinstance(value, str):
                problems.append({"field": name, "message": f"{name} is text."})
            elif value and len(value) > limit:
                problems.append({"field": name, "message": f"{name} is at most {limit} characters."})
            else:
                texts[name] = (value or "").strip() or None
    if problems:
        raise ValidationError("The change has problems.", code="invalid_changes", details=problems)
    if new["end_time"] <= new["start_time"]:
        raise ValidationError("The session must end after it starts.", code="invalid_changes")
    moving = {k for k in MOVES if k in changes and new[k] != getattr(s, k)}
    zone = institution_zone(session, s.institution_id)
    if moving and locking.lock_state(s, zone, grace_hours).locked:
        raise Locked("This session is locked: it can't be rescheduled or moved to another room or instructor.",
                     code="session_locked")
    before = _snapshot(s)
    planned = PlannedSession(s.cohort_id, new["session_date"], s.slot, new["start_time"], new["end_time"],
                             clock.local_to_utc(new["session_date"], new["start_time"], zone),
                             clock.local_to_utc(new["session_date"], new["end_time"], zone),
                             session_type, new["room_id"], new["instructor_id"])
    if moving:
        _check_resources(session, s.institution_id,
                         [Slot(planned.start_time, planned.end_time, session_type,
                               planned.room_id if "room_id" in moving else None,
                               planned.instructor_id if "instructor_id" in moving else None)])
        result = check([planned], busy_sessions(session, [planned], exclude_id=s.id))
        if result.clashes:
            names = _names_for(session, zone, result)
            clashes = conflicts_json(result, names)
            raise Conflict(clashes[0]["message"], code="schedule_conflict", details={"conflicts": clashes})
    s.session_date, s.start_time, s.end_time = planned.session_date, planned.start_time, planned.end_time
    if planned.ends_at != s.ends_at:
        locking.reopen_sweep(session, planned.ends_at)
    s.starts_at, s.ends_at = planned.starts_at, planned.ends_at
    s.room_id, s.instructor_id, s.session_type = planned.room_id, planned.instructor_id, session_type
    for name, value in texts.items():
        setattr(s, name, value)
    s.updated_at = clock.now()
    audit.record(session, actor_id=user.id, action="session.reschedule" if moving else "session.edit",
                 entity_type="class_session", entity_id=s.id, before=before, after=_snapshot(s))
    try:
        session.flush()
        session.commit()
    except IntegrityError as exc:
        if _is_exclusion_violation(exc):
            raise _exclusion_conflict(session, exc, [planned], zone, exclude_id=session_id) from None
        raise
    session.refresh(s)
    return s


def cancel_session(session: Session, user: User, session_id: int, reason: str | None = None, *,
                   grace_hours: int = 24) -> ClassSession:
    """Cancel one session (it frees its room and instructor). Locked or marked sessions stay as they are."""
    s = visible_session(session, user, session_id)
    if s.status == SessionStatus.CANCELLED:
        return s
    if locking.lock_state(s, institution_zone(session, s.institution_id), grace_hours).locked:
        raise Locked("This session is locked: it can't be cancelled.", code="session_locked")
    marked = marked_counts(session, [s.id]).get(s.id, 0)
    if marked:
        raise Conflict(f"This session already has {marked} attendance record(s); it can't be cancelled.",
                       code="session_marked")
    before = _snapshot(s)
    s.status = SessionStatus.CANCELLED
    s.updated_at = clock.now()
    if reason:
        s.notes = ((s.notes + "\n") if s.notes else "") + f"Cancelled: {reason.strip()[:500]}"
    audit.record(session, actor_id=user.id, action="session.cancel", entity_type="class_session", entity_id=s.id,
                 before=before, after=_snapshot(s), context={"reason": reason} if reason else None)
    session.commit()
    return s


def cohort_sessions_stmt(cohort_id: int, q: str | None = None, include_cancelled: bool = True) -> Any:
    stmt = select(ClassSession).where(ClassSession.cohort_id == cohort_id)
    if not include_cancelled:
        stmt = stmt.where(ClassSession.status != SessionStatus.CANCELLED)
    if q and q.strip():
        term = q.strip()
        like = f"%{term}%"
        matches = [Room.name.ilike(like), ClassSession.title.ilike(like), ClassSession.notes.ilike(like)]
        if term.upper() in SessionType.__members__:
            matches.append(ClassSession.session_type == SessionType(term.upper()))
        with contextlib.suppress(ValueError):
            matches.append(ClassSession.session_date == dt.date.fromisoformat(term))
        stmt = stmt.outerjoin(Room, Room.id == ClassSession.room_id).where(or_(*matches))
    return stmt.order_by(ClassSession.starts_at, ClassSession.id)
