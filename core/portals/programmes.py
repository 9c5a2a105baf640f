"""An organization's corporate programmes as its members see them: counts and rates, no names.

Every list is a fixed number of grouped queries whatever the number of cohorts (no N+1): a page of
cohorts, then trainee, session and attendance counts for that page's ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core import clock
from core.access.scoping import organization_granted
from core.attendance import marking
from core.collation import collated
from core.errors import NotFound
from core.i18n import N_
from core.models import (
    AtRiskLevel,
    ClassSession,
    Cohort,
    CohortType,
    CorporateAttendanceRecord,
    CorporateSessionCounts,
    CorporateTrainee,
    Institution,
    Organization,
    Qualification,
    SessionStatus,
    User,
)

from . import rules

REPORTS_PERMISSION = "corporate_reports.view"


@dataclass(frozen=True)
class OrganizationChoice:
    id: int
    name: str


@dataclass(frozen=True)
class Programme:
    cohort_id: int
    organization_id: int
    name: str
    course: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    status: str
    trainees: int
    sessions_planned: int      # every session not cancelled, past or future
    sessions_held: int         # of those, the ones that have ended
    sessions_cancelled: int
    attendance: dict[str, int]

    @property
    def attendance_rate(self) -> float | None:
        return rules.attendance_rate(self.attendance)


@dataclass(frozen=True)
class SessionLine:
    session_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    session_type: str
    delivery: str              # delivered | not_marked | cancelled | planned
    hours: float
    attendance: dict[str, int]
    locked: bool = False       # the lock rule (core.attendance.marking.locked_now), as the register shows it

    @property
    def attendance_rate(self) -> float | None:
        return rules.attendance_rate(self.attendance)


@dataclass(frozen=True)
class TraineeProgress:
    trainee_id: int
    name: str
    employee_code: str | None
    attendance: dict[str, int]
    sessions_missed: int
    level: str | None = None    # at-risk standing (issue 24): shown with the grant, like the names
    margin: int | None = None

    @property
    def attendance_rate(self) -> float | None:
        return rules.attendance_rate(self.attendance)


@dataclass(frozen=True)
class ProgrammeDetail:
    programme: Programme
    organization: OrganizationChoice
    time_zone: str
    sessions: list[SessionLine]
    reports_allowed: bool
    trainees: list[TraineeProgress] | None  # only for organizations granted corporate_reports.view

    @property
    def hours_delivered(self) -> float:
        return round(sum(s.hours for s in self.sessions if s.delivery == rules.DELIVERED), 2)


# --- which organization ----------------------------------------------------------------------------------------

def organizations_of(session: Session, user: User, language: str = "en") -> list[OrganizationChoice]:
    ids = user.organization_ids
    if not ids:
        return []
    rows = session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))
                           .order_by(collated(Organization.name, language), Organization.id)).all()
    return [OrganizationChoice(id=r.id, name=r.name) for r in rows]


def choose_organization(session: Session, user: User, wanted: int | None, remembered: int | None,
                        language: str = "en") -> tuple[OrganizationChoice | None, list[OrganizationChoice]]:
    """The organization whose programmes to show: the one asked for (404 if not theirs), else the one
    remembered, else the first; with all of the member's organizations, for a picker."""
    choices = organizations_of(session, user, language)
    by_id = {c.id: c for c in choices}
    if wanted is not None:
        if wanted not in by_id:
            raise NotFound(N_("No such organization, or you are not one of its members."), code="not_found")
        return by_id[wanted], choices
    if remembered in by_id:
        return by_id[remembered], choices
    return (choices[0] if choices else None), choices


def _member_cohorts(user: User) -> list:
    return [Cohort.cohort_type == CohortType.CORPORATE, Cohort.organization_id.in_(user.organization_ids or [-1])]


# --- counts -----------------------------------------------------------------------------------------------------

_SUMS = (CorporateSessionCounts.present, CorporateSessionCounts.late, CorporateSessionCounts.absent,
         CorporateSessionCounts.excused)


def _counts(present: int | None, late: int | None, absent: int | None, excused: int | None) -> dict[str, int]:
    return {"PRESENT": int(present or 0), "LATE": int(late or 0), "ABSENT": int(absent or 0),
            "EXCUSED": int(excused or 0)}


@dataclass(frozen=True)
class _CohortTotals:
    planned: int
    held: int
    cancelled: int
    attendance: dict[str, int]


def _cohort_totals(session: Session, ids: Sequence[int], now: dt.datetime) -> dict[int, _CohortTotals]:
    """Per cohort, in one pass over its sessions: planned, held and cancelled sessions, and the marks of the
    sessions not cancelled (from the per-session counts the database keeps, not from every record)."""
    live = ClassSession.status != SessionStatus.CANCELLED
    rows = session.execute(
        select(ClassSession.cohort_id, func.count().filter(live),
               func.count().filter(and_(live, ClassSession.ends_at <= now)),
               func.count().filter(ClassSession.status == SessionStatus.CANCELLED),
               *[func.sum(column).filter(live) for column in _SUMS])
        .outerjoin(CorporateSessionCounts, CorporateSessionCounts.session_id == ClassSession.id)
        .where(ClassSession.cohort_id.in_(ids)).group_by(ClassSession.cohort_id)).all()
    return {r[0]: _CohortTotals(planned=r[1], held=r[2], cancelled=r[3], attendance=_counts(*r[4:])) for r in rows}


def _trainee_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    return dict(session.execute(select(CorporateTrainee.cohort_id, func.count()).where(
        CorporateTrainee.cohort_id.in_(ids), CorporateTrainee.active.is_(True)).group_by(CorporateTrainee.cohort_id)
    ).all())


def _programmes(session: Session, cohorts: Sequence, now: dt.datetime) -> list[Programme]:
    ids = [c.id for c in cohorts]
    if not ids:
        return []
    trainees = _trainee_counts(session, ids)
    totals = _cohort_totals(session, ids, now)
    none = _CohortTotals(0, 0, 0, rules.empty_counts())
    return [Programme(cohort_id=c.id, organization_id=c.organization_id, name=c.name, course=c.title,
                      start_date=c.start_date, end_date=c.end_date, status=c.status.value,
                      trainees=trainees.get(c.id, 0), sessions_planned=totals.get(c.id, none).planned,
                      sessions_held=totals.get(c.id, none).held, sessions_cancelled=totals.get(c.id, none).cancelled,
                      attendance=totals.get(c.id, none).attendance)
            for c in cohorts]


_COHORT_COLUMNS = (Cohort.id, Cohort.organization_id, Cohort.name, Qualification.title, Cohort.start_date,
                   Cohort.end_date, Cohort.status)


def programmes_page(session: Session, user: User, organization_id: int, page: int, per_page: int,
                    language: str = "en") -> tuple[list[Programme], int]:
    """One page of the organization's corporate cohorts, newest first (then by name), with their counts."""
    where = [*_member_cohorts(user), Cohort.organization_id == organization_id]
    total = session.scalar(select(func.count()).select_from(Cohort).where(*where)) or 0
    cohorts = session.execute(
        select(*_COHORT_COLUMNS).outerjoin(Qualification, Qualification.id == Cohort.qualification_id)
        .where(*where).order_by(Cohort.start_date.desc().nulls_last(), collated(Cohort.name, language), Cohort.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    return _programmes(session, cohorts, clock.now()), total


# --- one programme ----------------------------------------------------------------------------------------------

def visible_programme(session: Session, user: User, cohort_id: int) -> Cohort:
    """A corporate cohort of one of the member's organizations; 404 for anything else (nothing leaks)."""
    cohort = session.scalar(select(Cohort).where(Cohort.id == cohort_id, *_member_cohorts(user)))
    if cohort is None:
        raise NotFound(N_("No such programme, or it is not one of your organization's."), code="not_found")
    return cohort


def reports_granted(session: Session, organization_id: int) -> bool:
    return bool(session.scalar(select(organization_granted([organization_id], REPORTS_PERMISSION))))


def session_lines(session: Session, cohort_id: int, now: dt.datetime, zone: str = "UTC",
                  grace_hours: int = 24) -> list[SessionLine]:
    rows = session.execute(
        select(ClassSession.id, ClassSession.session_date, ClassSession.start_time, ClassSession.end_time,
               ClassSession.session_type, ClassSession.status, ClassSession.ends_at, ClassSession.is_locked,
               ClassSession.relock_after, *_SUMS)
        .outerjoin(CorporateSessionCounts, CorporateSessionCounts.session_id == ClassSession.id)
        .where(ClassSession.cohort_id == cohort_id)
        .order_by(ClassSession.starts_at, ClassSession.id)).all()
    lines = []
    for r in rows:
        counts = _counts(*r[9:])
        cutoff = marking.auto_lock_at(r.session_date, r.ends_at, zone, grace_hours)
        lines.append(SessionLine(
            session_id=r.id, date=r.session_date, start_time=r.start_time, end_time=r.end_time,
            session_type=r.session_type.value, delivery=rules.delivery(r.status, r.ends_at, now, any(counts.values())),
            hours=rules.hours(r.start_time, r.end_time), attendance=counts,
            locked=marking.locked_now(r.is_locked, cutoff, r.relock_after, now)))
    return lines


def trainee_progress(session: Session, cohort_id: int, language: str = "en") -> list[TraineeProgress]:
    """Each trainee of the cohort (the organization's own employees): attendance and sessions missed."""
    attendance: dict[int, dict[str, int]] = {}
    for trainee_id, status, count in session.execute(
            select(CorporateAttendanceRecord.trainee_id, CorporateAttendanceRecord.status, func.count())
            .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
            .where(ClassSession.cohort_id == cohort_id, ClassSession.status != SessionStatus.CANCELLED)
            .group_by(CorporateAttendanceRecord.trainee_id, CorporateAttendanceRecord.status)).all():
        attendance.setdefault(trainee_id, rules.empty_counts())[status.value] = count
    rows = session.execute(select(CorporateTrainee.id, CorporateTrainee.full_name, CorporateTrainee.employee_code)
                           .where(CorporateTrainee.cohort_id == cohort_id, CorporateTrainee.active.is_(True))
                           .order_by(collated(CorporateTrainee.full_name, language), CorporateTrainee.id)).all()
    standing = dict(((mid, (level, margin)) for mid, level, margin in session.execute(
        select(AtRiskLevel.member_id, AtRiskLevel.level, AtRiskLevel.margin).where(
            AtRiskLevel.cohort_id == cohort_id, AtRiskLevel.member_type == "corporate_trainee"))))
    out = []
    for r in rows:
        counts = attendance.get(r.id, rules.empty_counts())
        out.append(TraineeProgress(trainee_id=r.id, name=r.full_name, employee_code=r.employee_code,
                                   attendance=counts, sessions_missed=counts["ABSENT"],
                                   level=standing.get(r.id, (None, None))[0],
                                   margin=standing.get(r.id, (None, None))[1]))
    return out


def detail_of(session: Session, cohort: Cohort, *, with_trainees: bool, now: dt.datetime | None = None,
              language: str = "en", grace_hours: int = 24) -> ProgrammeDetail:
    """A cohort's programme detail (the caller has checked who may see it); trainees in `language`'s name order."""
    now = now or clock.now()
    row = session.execute(select(*_COHORT_COLUMNS).outerjoin(Qualification, Qualification.id == Cohort.qualification_id)
                          .where(Cohort.id == cohort.id)).one()
    organization = session.execute(select(Organization.id, Organization.name)
                                   .where(Organization.id == cohort.organization_id)).one()
    zone = session.scalar(select(Institution.time_zone).where(Institution.id == cohort.institution_id)) or "UTC"
    granted = reports_granted(session, cohort.organization_id)
    return ProgrammeDetail(
        programme=_programmes(session, [row], now)[0],
        organization=OrganizationChoice(id=organization.id, name=organization.name), time_zone=zone,
        sessions=session_lines(session, cohort.id, now, zone, grace_hours), reports_allowed=granted,
        trainees=trainee_progress(session, cohort.id, language) if granted and with_trainees else None)


def programme_detail(session: Session, user: User, cohort_id: int, language: str = "en",
                     grace_hours: int = 24) -> ProgrammeDetail:
    """What a member sees of one programme; trainees' names only when their organization was granted."""
    return detail_of(session, visible_programme(session, user, cohort_id), with_trainees=True, language=language,
                     grace_hours=grace_hours)

