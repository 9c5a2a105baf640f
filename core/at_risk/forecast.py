"""A cohort's attendance by week against its required rate: the data of the forecast chart (drawn as SVG by
core.portals.chart, so the same picture goes into PDFs). EXCUSED counts as the institution says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    CohortType,
    CorporateAgreement,
    CorporateAttendanceRecord,
    Institution,
    Qualification,
    SessionStatus,
)

from . import service


@dataclass(frozen=True)
class Week:
    starts_on: dt.date
    attended: int
    counted: int
    cumulative_rate: float   # 0..1, every counted mark up to this week's end


def required_rate(session: Session, cohort: Cohort) -> float:
    """The cohort's required rate in percent: its own, else its agreement's, its qualification's, the global."""
    agreement = session.get(CorporateAgreement, cohort.agreement_id) if cohort.agreement_id else None
    qualification = session.get(Qualification, cohort.qualification_id) if cohort.qualification_id else None
    for value in (cohort.required_rate, agreement and agreement.required_rate,
                  qualification and qualification.required_rate):
        if value is not None:
            return float(value)
    return service.defaults().required_rate


def weekly(session: Session, cohort: Cohort) -> list[Week]:
    """Counted and attended marks per week (Monday first) of the cohort's held sessions, in one query."""
    table = CorporateAttendanceRecord if cohort.cohort_type == CohortType.CORPORATE else AttendanceRecord
    excused = session.scalar(select(Institution.excused_counts_as).where(Institution.id == cohort.institution_id))
    attended_statuses = ["PRESENT", "LATE", *(["EXCUSED"] if excused == "attended" else [])]
    counted = table.status != "EXCUSED" if excused == "not_counted" else table.status.is_not(None)
    rows = session.execute(
        select(ClassSession.session_date,
               func.sum(case((table.status.in_(attended_statuses), 1), else_=0)),
               func.sum(case((counted, 1), else_=0)))
        .join(table, table.session_id == ClassSession.id)
        .where(ClassSession.cohort_id == cohort.id, ClassSession.status != SessionStatus.CANCELLED)
        .group_by(ClassSession.session_date)).all()
    by_week: dict[dt.date, list[int]] = {}
    for day, a, c in rows:
        monday = day - dt.timedelta(days=day.weekday())
        slot = by_week.setdefault(monday, [0, 0])
        slot[0] += int(a or 0)
        slot[1] += int(c or 0)
    weeks, total_a, total_c = [], 0, 0
    for monday in sorted(by_week):
        a, c = by_week[monday]
        total_a, total_c = total_a + a, total_c + c
        if total_c:
            weeks.append(Week(monday, a, c, total_a / total_c))
    return weeks
