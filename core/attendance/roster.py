"""Who is on a cohort's register. The one place that branches on public vs corporate cohorts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import (
    AttendanceRecord,
    Cohort,
    CohortType,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Enrolment,
    EnrolmentStatus,
)


def roster_sizes(session: Session, cohort_ids: Iterable[int]) -> dict[int, int]:
    """Active trainees per cohort, for both kinds of cohort, in two grouped queries."""
    ids = list(set(cohort_ids))
    if not ids:
        return {}
    public = session.execute(
        select(Enrolment.cohort_id, func.count()).where(
            Enrolment.cohort_id.in_(ids), Enrolment.status == EnrolmentStatus.ACTIVE
        ).group_by(Enrolment.cohort_id)
    ).all()
    corporate = session.execute(
        select(CorporateTrainee.cohort_id, func.count()).where(
            CorporateTrainee.cohort_id.in_(ids), CorporateTrainee.active.is_(True)
        ).group_by(CorporateTrainee.cohort_id)
    ).all()
    sizes = dict.fromkeys(ids, 0)
    sizes.update({cid: n for cid, n in public})
    sizes.update({cid: n for cid, n in corporate})
    return sizes


def record_table(cohort: Cohort) -> type[AttendanceRecord] | type[CorporateAttendanceRecord]:
    return CorporateAttendanceRecord if cohort.cohort_type == CohortType.CORPORATE else AttendanceRecord


def marked_counts(session: Session, session_ids: Iterable[int]) -> dict[int, int]:
    """How many records each session has (a session's records live in exactly one of the tables)."""
    ids = list(set(session_ids))
    if not ids:
        return {}
    counts = dict.fromkeys(ids, 0)
    for table in (AttendanceRecord, CorporateAttendanceRecord):
        rows = session.execute(
            select(table.session_id, func.count()).where(table.session_id.in_(ids)).group_by(table.session_id)
        ).all()
        for sid, n in rows:
            counts[sid] += n
    return counts
