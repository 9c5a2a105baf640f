"""Cohort lists and pages with their progress: trainees, sessions held of planned, unmarked past sessions and
attendance rates, for both kinds of cohort, in a fixed number of grouped queries whatever the page size.

A rate is attended (PRESENT or LATE) over marks that count (EXCUSED counts neither way), as the at-risk rules
read it. For public cohorts only sessions inside a learner's enrolment count: on or after `enrolled_on`, and
before `withdrawn_on`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from core.access.scoping import cohort_filter
from core.at_risk.reads import levels_of
from core.attendance.roster import roster_sizes
from core.collation import collated, like_pattern, name_matches
from core.models import (
    AttendanceRecord,
    AttendanceStatus,
    ClassSession,
    Cohort,
    CohortStatus,
    CohortType,
    CorporateAttendanceRecord,
    CorporateSessionCounts,
    CorporateTrainee,
    Enrolment,
    EnrolmentStatus,
    Learner,
    Organization,
    PublicSessionCounts,
    Qualification,
    SessionStatus,
    User,
    cohort_facilitators,
)

from . import store
from .commands import CohortListQuery

_ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


@dataclass(frozen=True)
class Rate:
    attended: int = 0
    counted: int = 0

    @property
    def value(self) -> float | None:
        return round(self.attended / self.counted, 4) if self.counted else None


@dataclass(frozen=True)
class CohortStats:
    trainee_count: int = 0
    sessions_planned: int = 0
    sessions_held: int = 0
    unmarked_sessions: int = 0
    rate: Rate = Rate()


@dataclass(frozen=True)
class MemberRate:
    member_id: int
    name: str
    reference: str | None
    active: bool
    rate: Rate
    level: str | None = None    # at-risk standing (issue 24); None until first computed
    margin: int | None = None


def cohorts_query(user: User, query: CohortListQuery, language: str = "en") -> Select[Any]:
    """(Cohort, Qualification) rows the user may see, filtered, newest first (then by name in `language`)."""
    stmt = (select(Cohort, Qualification).outerjoin(Qualification, Qualification.id == Cohort.qualification_id)
            .where(cohort_filter(user)))
    if query.type:
        stmt = stmt.where(Cohort.cohort_type == CohortType(query.type))
    if query.status:
        stmt = stmt.where(Cohort.status == CohortStatus(query.status))
    if query.qualification is not None:
        stmt = stmt.where(Cohort.qualification_id == query.qualification)
    if query.facilitator is not None:
        stmt = stmt.where(Cohort.id.in_(select(cohort_facilitators.c.cohort_id)
                                        .where(cohort_facilitators.c.user_id == query.facilitator)))
    if query.q:
        orgs = select(Organization.id).where(name_matches(Organization.name, query.q))
        stmt = stmt.where(or_(name_matches(Cohort.name, query.q), name_matches(Qualification.title, query.q),
                              Qualification.code.ilike(like_pattern(query.q), escape="\\"),
                              Cohort.organization_id.in_(orgs)))
    return stmt.order_by(Cohort.start_date.desc().nulls_last(), collated(Cohort.name, language), Cohort.id.desc())


def _not_cancelled() -> Any:
    """Sessions that count. CANCELLED is written into the SQL, not bound: psycopg prepares a statement run five
    times, and the generic plan guesses that `status <> $1` keeps one session, then joins every attendance record
    to every session in a nested loop (a minute on 2M records instead of a tenth of a second)."""
    return ClassSession.status != literal(SessionStatus.CANCELLED, ClassSession.status.type, literal_execute=True)


def _ratio(status: Any) -> tuple[Any, Any]:
    attended = func.sum(case((status.in_(_ATTENDED), 1), else_=0))
    counted = func.sum(case((status != AttendanceStatus.EXCUSED, 1), else_=0))
    return attended, counted


def _in_enrolment() -> Any:
    """The session falls inside the learner's enrolment (sessions before it or after withdrawal don't count)."""
    return and_(or_(Enrolment.enrolled_on.is_(None), ClassSession.session_date >= Enrolment.enrolled_on),
                or_(Enrolment.withdrawn_on.is_(None), ClassSession.session_date < Enrolment.withdrawn_on))


def _public_rates(by: Any, where: Any) -> Select[Any]:
    attended, counted = _ratio(AttendanceRecord.status)
    return (select(by, attended, counted)
            .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
            .join(ClassSession, ClassSession.id == AttendanceRecord.session_id)
            .where(where, _not_cancelled(), _in_enrolment()).group_by(by))


def _corporate_rates(by: Any, where: Any) -> Select[Any]:
    attended, counted = _ratio(CorporateAttendanceRecord.status)
    return (select(by, attended, counted)
            .join(CorporateTrainee, CorporateTrainee.id == CorporateAttendanceRecord.trainee_id)
            .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
            .where(where, _not_cancelled()).group_by(by))


def cohort_stats(session: Session, cohort_ids: Iterable[int], now: dt.datetime) -> dict[int, CohortStats]:
    """Progress of each cohort in four grouped queries (two roster counts, the sessions with their kept counts,
    marks outside enrolments), whatever the number of attendance records.

    Rates come from the per-session counts the database keeps (PublicSessionCounts, CorporateSessionCounts)."""
    ids = sorted(set(cohort_ids))
    if not ids:
        return {}
    sizes = roster_sizes(session, ids)
    public, corporate = PublicSessionCounts, CorporateSessionCounts
    attended = (func.coalesce(public.present + public.late, 0)
                + func.coalesce(corporate.present + corporate.late, 0))
    counted = attended + func.coalesce(public.absent, 0) + func.coalesce(corporate.absent, 0)
    marks = counted + func.coalesce(public.excused, 0) + func.coalesce(corporate.excused, 0)
    past = ClassSession.ends_at <= now
    sessions = {row[0]: row[1:] for row in session.execute(
        select(ClassSession.cohort_id, func.count(), func.sum(case((past, 1), else_=0)),
               func.sum(case((and_(past, marks == 0), 1), else_=0)), func.sum(attended), func.sum(counted))
        .outerjoin(public, public.session_id == ClassSession.id)
        .outerjoin(corporate, corporate.session_id == ClassSession.id)
        .where(ClassSession.cohort_id.in_(ids), _not_cancelled())
        .group_by(ClassSession.cohort_id))}
    outside = {cid: (int(a or 0), int(c or 0))
               for cid, a, c in session.execute(store.outside_enrolments(session, ids, _ratio, _not_cancelled()))}
    out = {}
    for cid in ids:
        planned, held, open_, attended_n, counted_n = (int(v or 0) for v in sessions.get(cid, (0, 0, 0, 0, 0)))
        skip_attended, skip_counted = outside.get(cid, (0, 0))
        out[cid] = CohortStats(sizes.get(cid, 0), planned, held, open_,
                               Rate(attended_n - skip_attended, counted_n - skip_counted))
    return out


def member_rates(session: Session, cohort: Cohort, language: str = "en") -> list[MemberRate]:
    """Each trainee or learner of the cohort (active or not) with their own rate, in two queries; names in
    `language`'s order."""
    if cohort.cohort_type == CohortType.CORPORATE:
        members = session.execute(
            select(CorporateTrainee.id, CorporateTrainee.full_name, CorporateTrainee.employee_code,
                   CorporateTrainee.active)
            .where(CorporateTrainee.cohort_id == cohort.id)
            .order_by(collated(CorporateTrainee.full_name, language), CorporateTrainee.id)).all()
        stmt = _corporate_rates(CorporateTrainee.id, CorporateTrainee.cohort_id == cohort.id)
    else:
        members = session.execute(
            select(Enrolment.id, Learner.full_name, Learner.id_number, Enrolment.status == EnrolmentStatus.ACTIVE)
            .join(Learner, Learner.id == Enrolment.learner_id)
            .where(Enrolment.cohort_id == cohort.id)
            .order_by(collated(Learner.full_name, language), Enrolment.id)).all()
        stmt = _public_rates(Enrolment.id, Enrolment.cohort_id == cohort.id)
    rates = {mid: Rate(int(a or 0), int(c or 0)) for mid, a, c in session.execute(stmt)}
    standing = levels_of(session, cohort)
    return [MemberRate(mid, name, ref, bool(active), rates.get(mid, Rate()), *standing.get(mid, (None, None)))
            for mid, name, ref, active in members]


def enrolment_rates(session: Session, enrolment_ids: list[int]) -> dict[int, Rate]:
    """Each enrolment's own rate (a learner's page: enrolments in several cohorts), in one query."""
    if not enrolment_ids:
        return {}
    return {eid: Rate(int(a or 0), int(c or 0))
            for eid, a, c in session.execute(_public_rates(Enrolment.id, Enrolment.id.in_(enrolment_ids)))}
