"""Small builders for attendance tests: sessions created directly (not through the scheduling generator)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core import clock
from core.models import ClassSession, Cohort, CorporateTrainee, Enrolment, Institution


def make_session(db_session: Any, cohort_id: int, day: dt.date, start: dt.time = dt.time(9),
                 end: dt.time = dt.time(12), **extra: Any) -> int:
    cohort = db_session.get(Cohort, cohort_id)
    zone = db_session.get(Institution, cohort.institution_id).time_zone
    row = ClassSession(institution_id=cohort.institution_id, cohort_id=cohort_id, session_date=day, start_time=start,
                       end_time=end, starts_at=clock.local_to_utc(day, start, zone),
                       ends_at=clock.local_to_utc(day, end, zone), **extra)
    db_session.add(row)
    db_session.commit()
    return row.id


def started_open_session(db_session: Any, cohort_id: int, zone: str = "Africa/Algiers", **extra: Any) -> int:
    """Today's 07:00–08:00 session, local time: at the suite's instant (10:30 in Algiers, 11:30 in Johannesburg)
    it has started, it is open for marking (its cut-off, the end of today plus the grace, is more than a day
    away), and it clashes with none of the demo's sessions (09:00–12:00 and 13:00–16:00)."""
    local_now = clock.now().astimezone(ZoneInfo(zone))
    if local_now.time() < dt.time(8):
        raise AssertionError(f"at {local_now:%H:%M} today's 07:00 session has not ended: state a later hour")
    return make_session(db_session, cohort_id, local_now.date(), dt.time(7), dt.time(8), **extra)


def members(db_session: Any, cohort_id: int) -> list[int]:
    cohort = db_session.get(Cohort, cohort_id)
    if cohort.is_corporate:
        return list(db_session.scalars(select(CorporateTrainee.id).where(CorporateTrainee.cohort_id == cohort_id)
                                       .order_by(CorporateTrainee.id)))
    return list(db_session.scalars(select(Enrolment.id).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id)))


def demo_session(db_session: Any, cohort_id: int, past: bool = True) -> int:
    """One of the demo's own sessions of this cohort (a past one by default)."""
    now = clock.now()
    stmt = select(ClassSession.id).where(ClassSession.cohort_id == cohort_id)
    stmt = stmt.where(ClassSession.ends_at < now) if past else stmt.where(ClassSession.starts_at > now)
    return db_session.scalar(stmt.order_by(ClassSession.starts_at.desc() if past else ClassSession.starts_at).limit(1))

