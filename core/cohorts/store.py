"""The cohort statistics' SQL that differs by database, PostgreSQL and SQLite side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, and_, literal, or_, select, union_all
from sqlalchemy.orm import Session

from core.db import is_postgres
from core.models import AttendanceRecord, ClassSession, Enrolment

# status column → (attended, counted) aggregates (stats._ratio)
Ratio = Callable[[Any], tuple[Any, Any]]


def outside_enrolments(session: Session, ids: list[int], ratio: Ratio, kept: Any) -> Select[Any]:
    """Learners' marks for sessions outside their enrolment (before it, or from their withdrawal on), by cohort:
    (cohort id, attended, counted) over the sessions `kept` (a condition on ClassSession).

    The kept session counts include them and the rates must not. A record carries its session's date, so each
    enrolment needs two range probes of (enrolment_id, record_date), usually empty, never a read of every
    record. LATERAL (PostgreSQL) keeps them probes: joined plainly, the planner guesses a third of all records
    match an inequality and scans them all. SQLite has no LATERAL and plans the plain join by the index."""
    record = AttendanceRecord
    before, after = record.record_date < Enrolment.enrolled_on, record.record_date >= Enrolment.withdrawn_on
    if is_postgres(session):
        marks = union_all(*(select(record.session_id, record.status).where(record.enrolment_id == Enrolment.id,
                                                                           beyond).correlate(Enrolment)
                            for beyond in (before, after))).subquery().lateral()
        joined = select(Enrolment.cohort_id, *ratio(marks.c.status)).join(marks, literal(True))
        session_id = marks.c.session_id
    else:
        joined = (select(Enrolment.cohort_id, *ratio(record.status))
                  .join(record, and_(record.enrolment_id == Enrolment.id, or_(before, after))))
        session_id = record.session_id
    return (joined.join(ClassSession, ClassSession.id == session_id)
            .where(Enrolment.cohort_id.in_(ids), kept).group_by(Enrolment.cohort_id))
