"""The calendar: sessions in a window as events, filtered by what the caller may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from core import clock
from core.access.scoping import session_filter
from core.attendance import marking
from core.attendance.roster import marked_counts, roster_sizes
from core.errors import ValidationError
from core.i18n import N_
from core.institutions.phones import institution_country
from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    CorporateAttendanceRecord,
    Institution,
    Room,
    SessionStatus,
    SessionType,
    User,
)

from .commands import CalendarQuery
from .public_holidays import HolidayEntry, holidays_in_window

MAX_DAYS = 100


def _bound(value: str, zone: ZoneInfo) -> dt.datetime:
    """A date is local midnight; a date-time without an offset is local wall-clock time."""
    if len(value) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=zone)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


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


class CalendarRow(NamedTuple):
    id: int
    title: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    session_type: SessionType
    status: SessionStatus
    is_locked: bool
    cohort_id: int
    cohort_name: str
    room_id: int | None
    room_name: str | None
    instructor_id: int | None
    instructor_name: str | None
    session_date: dt.date
    slot: int
    relock_after: dt.datetime | None
    time_zone: str | None  # the session's institution's


@dataclass(frozen=True)
class CalendarWindow:
    time_zone: str
    start: dt.datetime
    end: dt.datetime
    rows: list[CalendarRow]
    marked: dict[int, int]  # records per session
    roster: dict[int, int]  # trainees per cohort
    locked: frozenset[int]  # sessions the lock rule closes
    holidays: tuple[HolidayEntry, ...] = ()  # public and the institution's own, in the window


def calendar_window(session: Session, user: User, query: CalendarQuery, grace_hours: int = 24,
                    language: str = "en") -> CalendarWindow:
    """Sessions in [start, end) the user may see, cancelled ones only with include_cancelled; and the holidays
    of the user's institution in the window (names in `language`)."""
    zone_name = session.scalar(select(Institution.time_zone).where(Institution.id == user.institution_id)) or "UTC"
    zone = ZoneInfo(zone_name)
    start, end = _bound(query.start, zone), _bound(query.end, zone)
    if end <= start:
        raise ValidationError(N_("end must be after start."), code="invalid_window")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise ValidationError(N_("A calendar window is at most %(days)s days."), code="invalid_window",
                              params={"days": MAX_DAYS})
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
    if not query.include_cancelled:
        stmt = stmt.where(ClassSession.status != SessionStatus.CANCELLED)
    for value, column in ((query.cohort, ClassSession.cohort_id), (query.room, ClassSession.room_id),
                          (query.instructor, ClassSession.instructor_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    rows = [CalendarRow(*r) for r in session.connection().execute(stmt)]  # Core rows: no ORM loading
    marks = _marked_counts(session, stmt) if len(rows) > 500 else marked_counts(session, [r.id for r in rows])
    holidays = () if user.institution_id is None else tuple(holidays_in_window(
        session, user.institution_id, institution_country(session, user.institution_id), start.date(),
        (end - dt.timedelta(microseconds=1)).date(), language))
    return CalendarWindow(zone_name, start, end, rows, marks, roster_sizes(session, [r.cohort_id for r in rows]),
                          _locked_by_rule(rows, grace_hours), holidays)


def _locked_by_rule(rows: list[CalendarRow], grace_hours: int) -> frozenset[int]:
    """Sessions the lock rule closes (by hand, or past the cut-off): what the register and the API show too."""
    now, grace = clock.now(), dt.timedelta(hours=grace_hours)
    return frozenset(r.id for r in rows if r.is_locked or (r.ends_at + grace <= now and marking.locked_now(
        False, marking.auto_lock_at(r.session_date, r.ends_at, r.time_zone or "UTC", grace_hours), r.relock_after,
        now)))  # the cheap test first: most sessions of a calendar are ahead of their cut-off
