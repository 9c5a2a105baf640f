"""Small builders for attendance tests: sessions created directly (not through the scheduling generator)."""

from __future__ import annotations

import datetime as dt
from typing import Any

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

