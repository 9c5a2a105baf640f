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
    """A session that has started and stays open for marking whatever time the suite runs (tests driving a
    live server, whose clock is the real one): it began three hours ago local time (21:00 at the latest, so it
    ends on its own day), so its cut-off (end of its local day + 24 h) is at least 21 hours away. Yesterday's
    18:00 session locked at midnight local time, failing any test still marking it then."""
    began = clock.now().astimezone(ZoneInfo(zone)) - dt.timedelta(hours=3)
    start = min(began.time().replace(second=0, microsecond=0), dt.time(21))
    end = (dt.datetime.combine(began.date(), start) + dt.timedelta(hours=1)).time()
    return make_session(db_session, cohort_id, began.date(), start, end, **extra)


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

