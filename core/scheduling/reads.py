"""What every scheduling use case reads: the institution's zone and holidays, who may be booked,
which sessions are already busy, and one visible session or a cohort's sessions."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core.access.scoping import cohort_filter
from core.collation import name_matches
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.institutions.phones import institution_country
from core.models import ClassSession, Cohort, Holiday, Institution, Role, Room, SessionStatus, SessionType, User

from .planner import Busy, PlannedSession, Slot
from .public_holidays import public_holiday_dates


def institution_zone(session: Session, institution_id: int | None) -> str:
    return session.scalar(select(Institution.time_zone).where(Institution.id == institution_id)) or "UTC"


def holidays_between(session: Session, institution_id: int, start: dt.date, end: dt.date, *, own: bool = True,
                     public: bool = True) -> frozenset[dt.date]:
    """The institution's own holidays (`own`) and its country's public holidays (`public`) in [start, end]."""
    days: frozenset[dt.date] = frozenset()
    if own:
        days = frozenset(session.scalars(select(Holiday.date).where(
            Holiday.institution_id == institution_id, Holiday.date.between(start, end))))
    if public:
        days |= public_holiday_dates(institution_country(session, institution_id), start, end)
    return days


def check_resources(session: Session, institution_id: int, slots: Iterable[Slot]) -> None:
    """Every room named is an active room here, every instructor an active teacher here (422 otherwise)."""
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
        raise ValidationError(N_("The plan names unknown rooms or instructors."), code="invalid_plan",
                              details=problems)


def busy_sessions(session: Session, planned: Sequence[PlannedSession], exclude_id: int | None = None) -> list[Busy]:
    """Non-cancelled sessions overlapping the plan's span that share its cohort, a room or an instructor."""
    if not planned:
        return []
    lo = min(p.starts_at for p in planned)
    hi = max(p.ends_at for p in planned)
    shares = [ClassSession.cohort_id.in_({p.cohort_id for p in planned})]
    if rooms := {p.room_id for p in planned if p.room_id is not None}:
        shares.append(ClassSession.room_id.in_(rooms))
    if instructors := {p.instructor_id for p in planned if p.instructor_id is not None}:
        shares.append(ClassSession.instructor_id.in_(instructors))
    stmt = select(ClassSession.id, ClassSession.cohort_id, ClassSession.room_id, ClassSession.instructor_id,
                  ClassSession.starts_at, ClassSession.ends_at).where(
        ClassSession.status != SessionStatus.CANCELLED, ClassSession.starts_at < hi, ClassSession.ends_at > lo,
        or_(*shares))
    if exclude_id is not None:
        stmt = stmt.where(ClassSession.id != exclude_id)
    return [Busy(*row) for row in session.execute(stmt)]


def visible_session(session: Session, user: User, session_id: int) -> ClassSession:
    found = session.scalar(select(ClassSession).join(Cohort, Cohort.id == ClassSession.cohort_id)
                           .where(ClassSession.id == session_id, cohort_filter(user)))
    if found is None:
        raise NotFound(N_("No such session, or it is not one you can see."))
    return found


def cohort_sessions_stmt(cohort_id: int, q: str | None = None, include_cancelled: bool = True) -> Select:
    """A cohort's sessions in time order; `q` matches a room, title, notes, a session type or a date."""
    stmt = select(ClassSession).where(ClassSession.cohort_id == cohort_id)
    if not include_cancelled:
        stmt = stmt.where(ClassSession.status != SessionStatus.CANCELLED)
    if q and q.strip():
        term = q.strip()
        matches = [name_matches(Room.name, term), name_matches(ClassSession.title, term),
                   name_matches(ClassSession.notes, term)]
        if term.upper() in SessionType.__members__:
            matches.append(ClassSession.session_type == SessionType(term.upper()))
        with contextlib.suppress(ValueError):
            matches.append(ClassSession.session_date == dt.date.fromisoformat(term))
        stmt = stmt.outerjoin(Room, Room.id == ClassSession.room_id).where(or_(*matches))
    return stmt.order_by(ClassSession.starts_at, ClassSession.id)
