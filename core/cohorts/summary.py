"""A client organization's view of its programmes: counts only, nothing personal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.access.scoping import cohort_filter
from core.attendance.roster import roster_sizes
from core.models import (
    AttendanceStatus,
    ClassSession,
    Cohort,
    CorporateAttendanceRecord,
    Qualification,
    SessionStatus,
    User,
)


@dataclass(frozen=True)
class ProgrammeSummary:
    cohort_id: int
    name: str
    course: str | None
    status: str
    trainees: int
    sessions: int
    attendance: dict[str, int]


def programme_summaries(session: Session, user: User) -> list[ProgrammeSummary]:
    cohorts = session.execute(
        select(Cohort.id, Cohort.name, Cohort.status, Qualification.title)
        .outerjoin(Qualification, Qualification.id == Cohort.qualification_id)
        .where(cohort_filter(user))
        .order_by(Cohort.start_date.desc().nulls_last(), Cohort.name)
    ).all()
    ids = [c.id for c in cohorts]
    sizes = roster_sizes(session, ids)
    sessions = dict(session.execute(
        select(ClassSession.cohort_id, func.count()).where(
            ClassSession.cohort_id.in_(ids), ClassSession.status != SessionStatus.CANCELLED
        ).group_by(ClassSession.cohort_id)
    ).all()) if ids else {}
    status_counts = [
        func.sum(case((CorporateAttendanceRecord.status == s, 1), else_=0)).label(s.value) for s in AttendanceStatus
    ]
    attendance = {
        row.cohort_id: {s.value: int(getattr(row, s.value) or 0) for s in AttendanceStatus}
        for row in session.execute(
            select(ClassSession.cohort_id, *status_counts)
            .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
            .where(ClassSession.cohort_id.in_(ids))
            .group_by(ClassSession.cohort_id)
        ).all()
    } if ids else {}
    empty = {s.value: 0 for s in AttendanceStatus}
    return [
        ProgrammeSummary(cohort_id=c.id, name=c.name, course=c.title, status=c.status.value,
                         trainees=sizes.get(c.id, 0), sessions=sessions.get(c.id, 0),
                         attendance=attendance.get(c.id, empty))
        for c in cohorts
    ]
