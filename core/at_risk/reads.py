"""Reading at-risk standings: the institution's at-risk list (filters, paging, margin order), a cohort's
levels, a learner's. Every read is scoped by `cohort_filter`, so a filter naming another tenant's cohort
finds nothing and says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from core import clock
from core.access.scoping import cohort_filter
from core.errors import ValidationError
from core.i18n import N_
from core.models import (
    AtRiskLevel,
    ClassSession,
    Cohort,
    CohortType,
    CorporateTrainee,
    Enrolment,
    Institution,
    Learner,
    Organization,
    Qualification,
    Role,
    SessionStatus,
    User,
    cohort_facilitators,
)
from core.pagination import fetch_page

from .commands import AtRiskQuery

PUBLIC, CORPORATE = "enrolment", "corporate_trainee"
WARNING_LEVELS = ("watch", "at_risk", "cannot_reach")


@dataclass(frozen=True)
class Standing:
    """One trainee's row of the at-risk list."""

    level: AtRiskLevel
    cohort_id: int
    cohort_name: str
    name: str
    learner_id: int | None
    trainee_id: int | None
    excused_counts_as: str
    register_session_id: int | None = None

    @property
    def enrolment_id(self) -> int | None:
        return self.level.member_id if self.level.member_type == PUBLIC else None


def levels_of(session: Session, cohort: Cohort) -> dict[int, tuple[str, int]]:
    """{member id: (level, margin)} for one cohort's trainees (its own kind), in one query."""
    member_type = CORPORATE if cohort.cohort_type == CohortType.CORPORATE else PUBLIC
    rows = session.execute(select(AtRiskLevel.member_id, AtRiskLevel.level, AtRiskLevel.margin).where(
        AtRiskLevel.cohort_id == cohort.id, AtRiskLevel.member_type == member_type)).all()
    return {mid: (level, margin) for mid, level, margin in rows}


def enrolment_levels(session: Session, enrolment_ids: Iterable[int]) -> dict[int, tuple[str, int]]:
    """{enrolment id: (level, margin)}: a learner's page (enrolments in several cohorts), in one query."""
    ids = list(enrolment_ids)
    if not ids:
        return {}
    rows = session.execute(select(AtRiskLevel.member_id, AtRiskLevel.level, AtRiskLevel.margin).where(
        AtRiskLevel.member_type == PUBLIC, AtRiskLevel.member_id.in_(ids))).all()
    return {mid: (level, margin) for mid, level, margin in rows}


def _check_filters(session: Session, user: User, query: AtRiskQuery) -> None:
    """A filter naming something the caller cannot see (or that does not exist) is a 422 naming the filter."""
    visible = cohort_filter(user)
    checks: list[tuple[str, Any, Any]] = [
        ("cohort", query.cohort, select(exists().where(Cohort.id == query.cohort, visible))),
        ("qualification", query.qualification,
         select(exists().where(Qualification.id == query.qualification,
                               Qualification.institution_id == user.institution_id if user.institution_id
                               else Qualification.id.is_not(None)))),
        ("organization", query.organization,
         select(exists().where(Organization.id == query.organization,
                               Organization.institution_id == user.institution_id if user.institution_id
                               else Organization.id.is_not(None)))),
        ("facilitator", query.facilitator,
         select(exists().where(User.id == query.facilitator,
                               User.institution_id == user.institution_id if user.institution_id
                               else User.id.is_not(None)))),
    ]
    for name, value, stmt in checks:
        if value is not None and not session.scalar(stmt):
            raise ValidationError(N_("Unknown %(filter)s: %(id)s."), code="unknown_filter",
                                  params={"filter": name, "id": value},
                                  details=[{"field": name, "message": "unknown id"}])


def _with_names(stmt: Select[Any]) -> Select[Any]:
    """The level rows of `stmt` with their cohort's name, the institution's EXCUSED rule and the trainee's name."""
    return (stmt.join(Institution, Institution.id == Cohort.institution_id)
            .outerjoin(Enrolment, and_(AtRiskLevel.member_type == PUBLIC, Enrolment.id == AtRiskLevel.member_id))
            .outerjoin(Learner, Learner.id == Enrolment.learner_id)
            .outerjoin(CorporateTrainee, and_(AtRiskLevel.member_type == CORPORATE,
                                              CorporateTrainee.id == AtRiskLevel.member_id)))


_COLUMNS = (AtRiskLevel, Cohort.name, Institution.excused_counts_as, Enrolment.learner_id, Learner.full_name,
            CorporateTrainee.id, CorporateTrainee.full_name)


def at_risk_statement(user: User, query: AtRiskQuery, *columns: Any) -> Select[Any]:
    """The list's rows (only `columns`, else every column a row shows), filtered and in margin order."""
    stmt = select(*(columns or _COLUMNS)).join(Cohort, Cohort.id == AtRiskLevel.cohort_id).where(cohort_filter(user))
    if not columns:
        stmt = _with_names(stmt)
    stmt = stmt.where(AtRiskLevel.level == query.level) if query.level else \
        stmt.where(AtRiskLevel.level.in_(WARNING_LEVELS))
    if query.cohort:
        stmt = stmt.where(AtRiskLevel.cohort_id == query.cohort)
    if query.qualification:
        stmt = stmt.where(Cohort.qualification_id == query.qualification)
    if query.organization:
        stmt = stmt.where(Cohort.organization_id == query.organization)
    if query.facilitator:
        stmt = stmt.where(Cohort.id.in_(select(cohort_facilitators.c.cohort_id)
                                        .where(cohort_facilitators.c.user_id == query.facilitator)))
    order = AtRiskLevel.margin.asc() if query.sort == "margin" else AtRiskLevel.margin.desc()
    return stmt.order_by(order, AtRiskLevel.id)


def _standings(rows: Iterable[Any]) -> list[Standing]:
    return [Standing(level, level.cohort_id, cohort_name, learner_name or trainee_name or "?", learner_id,
                     trainee_id, excused)
            for level, cohort_name, excused, learner_id, learner_name, trainee_id, trainee_name in rows]


def _latest_registers(session: Session, cohort_ids: set[int], now: dt.datetime) -> dict[int, int]:
    """Each cohort's latest started session (the register a warning points to), in one query."""
    if not cohort_ids:
        return {}
    latest = (select(ClassSession.cohort_id, func.max(ClassSession.starts_at).label("at"))
              .where(ClassSession.cohort_id.in_(cohort_ids), ClassSession.starts_at <= now,
                     ClassSession.status != SessionStatus.CANCELLED)
              .group_by(ClassSession.cohort_id).subquery())
    rows = session.execute(select(ClassSession.cohort_id, func.max(ClassSession.id)).join(
        latest, and_(latest.c.cohort_id == ClassSession.cohort_id, latest.c.at == ClassSession.starts_at))
        .group_by(ClassSession.cohort_id)).all()
    return dict(rows)


def at_risk_page(session: Session, user: User, query: AtRiskQuery) -> tuple[list[Standing], int]:
    """One page of the at-risk list and its total: the page's ids first (levels and cohorts only, in the
    (level, margin) index's order), then names for those rows alone."""
    _check_filters(session, user, query)
    ids, total = fetch_page(session, at_risk_statement(user, query, AtRiskLevel.id), query.page, query.per_page)
    order = {level_id: n for n, level_id in enumerate(ids)}
    rows = sorted(session.execute(_with_names(select(*_COLUMNS).join(Cohort, Cohort.id == AtRiskLevel.cohort_id))
                                  .where(AtRiskLevel.id.in_(ids))).all(), key=lambda r: order[r[0].id]) if ids else []
    items = _standings(rows)
    registers = _latest_registers(session, {s.cohort_id for s in items}, clock.now())
    return [Standing(**{**s.__dict__, "register_session_id": registers.get(s.cohort_id)}) for s in items], total


def at_risk_all(session: Session, user: User, query: AtRiskQuery, limit: int = 100_000) -> list[Standing]:
    """Every row of the list (the exports), bounded."""
    _check_filters(session, user, query)
    return _standings(session.execute(at_risk_statement(user, query).limit(limit)).all())


def my_levels(session: Session, memberships: Iterable[Any]) -> dict[tuple[str, int], AtRiskLevel]:
    """{(cohort type, member id): level row} for a learner's own memberships (/me), in one query."""
    wanted = {(PUBLIC if m.cohort_type == CohortType.PUBLIC.value else CORPORATE, m.member_id): m.cohort_type
              for m in memberships}
    if not wanted:
        return {}
    rows = session.scalars(select(AtRiskLevel).where(
        AtRiskLevel.member_id.in_([mid for _t, mid in wanted]))).all()
    return {(wanted[(r.member_type, r.member_id)], r.member_id): r for r in rows
            if (r.member_type, r.member_id) in wanted}


def filter_choices(session: Session, me: User) -> dict[str, list[Any]]:
    """The filters' options: what the caller's cohorts use (bounded)."""
    cohorts = session.execute(select(Cohort.id, Cohort.name, Cohort.qualification_id, Cohort.organization_id)
                                 .where(cohort_filter(me)).order_by(Cohort.name).limit(500)).all()
    institution = me.institution_id
    scoped = (lambda col: col == institution) if institution else (lambda col: col.is_not(None))
    return {
        "cohorts": [(c.id, c.name) for c in cohorts],
        "qualifications": session.execute(select(Qualification.id, Qualification.title).where(
            scoped(Qualification.institution_id)).order_by(Qualification.title).limit(500)).all(),
        "organizations": session.execute(select(Organization.id, Organization.name).where(
            scoped(Organization.institution_id)).order_by(Organization.name).limit(500)).all(),
        "facilitators": session.execute(select(User.id, User.full_name).where(
            scoped(User.institution_id), User.role == Role.TEACHER, User.active.is_(True))
            .order_by(User.full_name).limit(500)).all(),
    }
