"""Reads of one cohort's sessions for its screens: upcoming and past, a page of each, with the lock state
every screen shows (core.attendance.locking.lock_states: by hand, or past its cut-off unless an unlock is in
force), and every session of a cohort for a read-only list (the regulator's)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core.access.scoping import cohort_filter
from core.attendance.locking import LockState, lock_states
from core.collation import collated, name_matches
from core.models import (
    ClassSession,
    Cohort,
    CohortStatus,
    CohortType,
    ImportKind,
    Organization,
    Qualification,
    Role,
    SessionStatus,
    TraineeImport,
    User,
)
from core.pagination import page_count


@dataclass(frozen=True)
class SessionPage:
    items: list[ClassSession]
    locks: dict[int, LockState]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)


def _page(session: Session, where: list, order: list, page: int, per_page: int, grace_hours: int) -> SessionPage:
    total = session.scalar(select(func.count()).select_from(ClassSession).where(*where)) or 0
    last = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), last)  # a page past the end shows the last one: never a page 0, never an empty one
    items = list(session.scalars(select(ClassSession).where(*where).order_by(*order)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return SessionPage(items, lock_states(session, items, grace_hours), page, per_page, total)


def upcoming_and_past(session: Session, cohort_id: int, now: dt.datetime, *, upcoming_page: int = 1,
                      past_page: int = 1, per_page: int = 20, grace_hours: int = 24) -> tuple[SessionPage, SessionPage]:
    """The cohort's sessions not cancelled: those not ended yet (soonest first) and those ended (latest first)."""
    live = [ClassSession.cohort_id == cohort_id, ClassSession.status != SessionStatus.CANCELLED]
    upcoming = _page(session, [*live, ClassSession.ends_at > now], [ClassSession.starts_at, ClassSession.id],
                     upcoming_page, per_page, grace_hours)
    past = _page(session, [*live, ClassSession.ends_at <= now], [ClassSession.starts_at.desc(), ClassSession.id.desc()],
                 past_page, per_page, grace_hours)
    return upcoming, past


def all_sessions(session: Session, cohort_id: int, grace_hours: int) -> tuple[list[ClassSession], dict[int, LockState]]:
    """Every session of the cohort in time order, with its lock state."""
    items = list(session.scalars(select(ClassSession).where(ClassSession.cohort_id == cohort_id)
                                 .order_by(ClassSession.starts_at, ClassSession.id)))
    return items, lock_states(session, items, grace_hours)


@dataclass(frozen=True)
class AdminOverview:
    """The admin home: active cohorts of each kind, sessions still to come, the latest cohorts (the user's)."""
    public: int
    corporate: int
    upcoming: int
    cohorts: list[Cohort]


def admin_overview(session: Session, user: User, latest: int = 20) -> AdminOverview:
    counts = dict(session.execute(
        select(Cohort.cohort_type, func.count()).where(cohort_filter(user), Cohort.status == CohortStatus.ACTIVE)
        .group_by(Cohort.cohort_type)).all())
    upcoming = session.scalar(
        select(func.count()).select_from(ClassSession).join(Cohort, Cohort.id == ClassSession.cohort_id)
        .where(cohort_filter(user), ClassSession.status == SessionStatus.SCHEDULED,
               ClassSession.is_locked.is_(False))) or 0
    cohorts = list(session.scalars(
        select(Cohort).where(cohort_filter(user)).order_by(Cohort.start_date.desc().nulls_last()).limit(latest)))
    return AdminOverview(counts.get(CohortType.PUBLIC, 0), counts.get(CohortType.CORPORATE, 0), upcoming, cohorts)


def session_counts(session: Session, cohort_ids: list[int]) -> dict[int, int]:
    """Sessions planned (not cancelled) per cohort."""
    if not cohort_ids:
        return {}
    return dict(session.execute(
        select(ClassSession.cohort_id, func.count()).where(
            ClassSession.cohort_id.in_(cohort_ids), ClassSession.status != SessionStatus.CANCELLED)
        .group_by(ClassSession.cohort_id)).all())


def corporate_cohorts_query(user: User, q: str, status: str | None, language: str) -> Select:
    """The corporate cohorts the user may see, matched on their own or their organization's name."""
    stmt = (select(Cohort).outerjoin(Organization, Organization.id == Cohort.organization_id)
            .where(cohort_filter(user), Cohort.cohort_type == CohortType.CORPORATE))
    if q:
        stmt = stmt.where(or_(name_matches(Cohort.name, q), name_matches(Organization.name, q)))
    if status:
        stmt = stmt.where(Cohort.status == CohortStatus(status))
    return stmt.order_by(Cohort.start_date.desc().nulls_last(), collated(Cohort.name, language), Cohort.id.desc())


def organization_cohorts(session: Session, user: User, organization_id: int, language: str) -> list[Cohort]:
    return list(session.scalars(select(Cohort).where(Cohort.organization_id == organization_id, cohort_filter(user))
                                .order_by(Cohort.start_date.desc().nulls_last(), collated(Cohort.name, language))))


def organization_names(session: Session, organization_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in organization_ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all())


def recent_imports(session: Session, cohort_id: int, kind: ImportKind | None = None, limit: int = 20
                   ) -> list[TraineeImport]:
    stmt = select(TraineeImport).where(TraineeImport.cohort_id == cohort_id)
    if kind is not None:
        stmt = stmt.where(TraineeImport.kind == kind)
    return list(session.scalars(stmt.order_by(TraineeImport.created_at.desc()).limit(limit)))


def first_sessions(session: Session, cohort_id: int, limit: int = 200) -> list[ClassSession]:
    return list(session.scalars(select(ClassSession).where(ClassSession.cohort_id == cohort_id)
                                .order_by(ClassSession.starts_at).limit(limit)))


def qualifications(session: Session, institution_id: int | None, language: str, *, active_only: bool = False
                   ) -> list[Qualification]:
    stmt = select(Qualification).where(Qualification.institution_id == institution_id)
    if active_only:
        stmt = stmt.where(Qualification.active.is_(True))
    return list(session.scalars(stmt.order_by(collated(Qualification.title, language))))


def active_teachers(session: Session, institution_id: int, language: str) -> list[User]:
    return list(session.scalars(select(User).where(User.institution_id == institution_id, User.role == Role.TEACHER,
                                                   User.active.is_(True)).order_by(collated(User.full_name, language))))
