"""What a learner sees of their own record (/me and /api/me/*): their sessions with their mark, who made it and
when, and per cohort their rate against the required rate. Only rows tied to their own account are read
(core.me.identity): nobody else's marks, registers or cohorts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from core import clock
from core.apologies.reads import my_apology_evidence_ids
from core.at_risk.reads import my_levels
from core.errors import ValidationError
from core.i18n import N_
from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Enrolment,
    EnrolmentStatus,
    EvidenceFile,
    Learner,
    Room,
    User,
)
from core.reminders import rules
from core.scheduling.reads import institution_zone

from .identity import Membership, memberships

MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class MySession:
    """One session of one of my cohorts, with my mark (None: not marked)."""

    session_id: int
    cohort_id: int
    cohort_name: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    session_type: str
    title: str | None
    room: str | None
    cancelled: bool
    status: str | None
    minutes_late: int | None
    notes: str | None
    marked_by: str | None
    marked_at: dt.datetime | None
    evidence_file_id: int | None
    evidence_name: str | None


@dataclass
class CohortAttendance:
    """My attendance in one cohort: counts by status, my rate and the rate required, and whether I am at risk."""

    cohort_id: int
    cohort_name: str
    cohort_type: str
    active: bool
    required_rate: float
    rate: float | None = None
    at_risk: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    sessions: list[MySession] = field(default_factory=list)
    level: str | None = None     # at-risk standing (issue 24), as staff see it
    margin: int | None = None    # sessions I may still miss and stay at the required rate


def _public_sessions(user_id: int) -> Any:
    marker = aliased(User)
    on_day = and_(or_(Enrolment.enrolled_on.is_(None), Enrolment.enrolled_on <= ClassSession.session_date),
                  or_(Enrolment.status != EnrolmentStatus.WITHDRAWN, Enrolment.withdrawn_on.is_(None),
                      Enrolment.withdrawn_on > ClassSession.session_date))
    return (select(ClassSession, Cohort.name, Room.name, AttendanceRecord.status, AttendanceRecord.minutes_late,
                   AttendanceRecord.notes, marker.full_name, AttendanceRecord.marked_at,
                   AttendanceRecord.evidence_file_id, EvidenceFile.original_filename)
            .join(Cohort, Cohort.id == ClassSession.cohort_id)
            .join(Enrolment, Enrolment.cohort_id == ClassSession.cohort_id)
            .join(Learner, Learner.id == Enrolment.learner_id)
            .outerjoin(Room, Room.id == ClassSession.room_id)
            .outerjoin(AttendanceRecord, and_(AttendanceRecord.enrolment_id == Enrolment.id,
                                              AttendanceRecord.session_id == ClassSession.id))
            .outerjoin(marker, marker.id == AttendanceRecord.marked_by_id)
            .outerjoin(EvidenceFile, EvidenceFile.id == AttendanceRecord.evidence_file_id)
            .where(Learner.user_id == user_id, on_day))


def _corporate_sessions(user_id: int) -> Any:
    marker = aliased(User)
    rec = CorporateAttendanceRecord
    return (select(ClassSession, Cohort.name, Room.name, rec.status, rec.minutes_late, rec.notes, marker.full_name,
                   rec.marked_at, rec.evidence_file_id, EvidenceFile.original_filename)
            .join(Cohort, Cohort.id == ClassSession.cohort_id)
            .join(CorporateTrainee, CorporateTrainee.cohort_id == ClassSession.cohort_id)
            .outerjoin(Room, Room.id == ClassSession.room_id)
            .outerjoin(rec, and_(rec.trainee_id == CorporateTrainee.id, rec.session_id == ClassSession.id))
            .outerjoin(marker, marker.id == rec.marked_by_id)
            .outerjoin(EvidenceFile, EvidenceFile.id == rec.evidence_file_id)
            .where(CorporateTrainee.user_id == user_id))


def my_sessions(session: Session, user: User, start: dt.date | None = None, end: dt.date | None = None, *,
                only: Iterable[int] | None = None) -> list[MySession]:
    """My sessions (both kinds of cohort) whose local date is in [start, end] (and whose id is in `only`, if
    given), in time order, each with my mark. Two queries whatever the number of cohorts."""
    found: list[MySession] = []
    for stmt in (_public_sessions(user.id), _corporate_sessions(user.id)):
        if only is not None:
            stmt = stmt.where(ClassSession.id.in_(list(only)))
        if start is not None:
            stmt = stmt.where(ClassSession.session_date >= start)
        if end is not None:
            stmt = stmt.where(ClassSession.session_date <= end)
        for s, cohort_name, room, status, late, notes, by, at, evidence_id, evidence_name in session.execute(stmt):
            found.append(MySession(
                s.id, s.cohort_id, cohort_name, s.session_date, s.start_time, s.end_time, s.starts_at, s.ends_at,
                s.session_type.value, s.title, room, s.status.value == "CANCELLED",
                status.value if status is not None else None, late, notes, by, at, evidence_id, evidence_name))
    found.sort(key=lambda m: (m.starts_at, m.session_id))
    return found


def sessions_between(session: Session, user: User, start: dt.date | None, end: dt.date | None
                     ) -> list[MySession]:
    """`GET /api/me/sessions?from=&to=`: by default the institution's today and the 30 days after it."""
    today = clock.today_in(institution_zone(session, user.institution_id))
    start = start or today
    end = end or start + dt.timedelta(days=30)
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise ValidationError(N_("Choose a range of at most %(days)s days, ending on or after its start."),
                              code="invalid_range", params={"days": MAX_RANGE_DAYS},
                              details=[{"field": "to", "message": f"At most {MAX_RANGE_DAYS} days after from."}])
    return my_sessions(session, user, start, end)


def _attendance(membership: Membership, sessions: Iterable[MySession], required_rate: float, consecutive: int,
                now: dt.datetime) -> CohortAttendance:
    mine = list(sessions)
    statuses = [s.status for s in mine if s.status is not None and not s.cancelled and s.starts_at <= now]
    risk = rules.assess(statuses, required_rate, consecutive)
    counts = {status: statuses.count(status) for status in ("PRESENT", "LATE", "ABSENT", "EXCUSED")}
    return CohortAttendance(membership.cohort_id, membership.cohort_name, membership.cohort_type, membership.active,
                            required_rate, risk.rate, risk.at_risk, counts, mine)


def my_attendance(session: Session, user: User, *, required_rate: float, consecutive: int
                  ) -> list[CohortAttendance]:
    """Each of my cohorts with my rate (attended of counted marks; excused counts neither way), the rate required
    and whether I am at risk (core.reminders.rules, the rule the at-risk digests use), and its sessions."""
    by_cohort = {c: list(group) for c, group in groupby(
        sorted(my_sessions(session, user), key=lambda s: (s.cohort_id, s.starts_at)), key=lambda s: s.cohort_id)}
    now = clock.now()
    mine = memberships(session, user.id)
    standing = my_levels(session, mine)
    out = [_attendance(m, by_cohort.get(m.cohort_id, []), required_rate, consecutive, now) for m in mine]
    for m, c in zip(mine, out, strict=True):
        if (found := standing.get((m.cohort_type, m.member_id))) is not None:
            c.level, c.margin, c.required_rate = found.level, found.margin, found.required_rate / 100
            c.at_risk = found.level in ("at_risk", "cannot_reach")
    return out


def my_evidence(session: Session, user: User, evidence_id: int) -> EvidenceFile | None:
    """An evidence file on one of my own marks or apologies, else None (the caller answers 404)."""
    mine = {s.evidence_file_id for s in my_sessions(session, user) if s.evidence_file_id is not None}
    if evidence_id in mine or evidence_id in my_apology_evidence_ids(session, user):
        return session.get(EvidenceFile, evidence_id)
    return None
