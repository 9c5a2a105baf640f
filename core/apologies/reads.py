"""Apologies as people read them: a learner's own, a facilitator's or admin's list (the sessions they may see),
and the pending ones on one register. A fixed number of queries per page, whatever its size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from core.access.scoping import session_filter
from core.models import Apology, ApologyStatus, ClassSession, Cohort, EvidenceFile, User, apology_sessions
from core.pagination import fetch_page

from .commands import ApologyQuery


@dataclass(frozen=True)
class ApologySession:
    session_id: int
    cohort_id: int
    cohort_name: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time


@dataclass(frozen=True)
class ApologyView:
    id: int
    status: str
    reason: str
    learner: str
    sessions: list[ApologySession]
    evidence_file_id: int | None
    evidence_name: str | None
    sent_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None


def apology_views(session: Session, apology_ids: Sequence[int]) -> list[ApologyView]:
    """The apologies with their learners, deciders, files and sessions, in the order given (two queries)."""
    if not apology_ids:
        return []
    learner, decider = aliased(User), aliased(User)
    rows = session.execute(
        select(Apology, learner.full_name, decider.full_name, EvidenceFile.original_filename)
        .join(learner, learner.id == Apology.user_id).outerjoin(decider, decider.id == Apology.decided_by_id)
        .outerjoin(EvidenceFile, EvidenceFile.id == Apology.evidence_file_id)
        .where(Apology.id.in_(apology_ids))).all()
    sessions: dict[int, list[ApologySession]] = {}
    for apology_id, s, cohort_name in session.execute(
            select(apology_sessions.c.apology_id, ClassSession, Cohort.name)
            .join(ClassSession, ClassSession.id == apology_sessions.c.session_id)
            .join(Cohort, Cohort.id == ClassSession.cohort_id)
            .where(apology_sessions.c.apology_id.in_(apology_ids)).order_by(ClassSession.starts_at)):
        sessions.setdefault(apology_id, []).append(ApologySession(s.id, s.cohort_id, cohort_name, s.session_date,
                                                                  s.start_time, s.end_time))
    by_id = {a.id: ApologyView(a.id, a.status.value, a.reason, name, sessions.get(a.id, []), a.evidence_file_id,
                               file_name, a.created_at, decider_name, a.decided_at, a.decision_reason)
             for a, name, decider_name, file_name in rows}
    return [by_id[i] for i in apology_ids if i in by_id]


def my_apologies(session: Session, user: User) -> list[ApologyView]:
    """The learner's own apologies, newest first."""
    ids = session.scalars(select(Apology.id).where(Apology.user_id == user.id)
                          .order_by(Apology.created_at.desc(), Apology.id.desc())).all()
    return apology_views(session, ids)


def my_apology_evidence_ids(session: Session, user: User) -> set[int]:
    return set(session.scalars(select(Apology.evidence_file_id).where(
        Apology.user_id == user.id, Apology.evidence_file_id.is_not(None))))


def visible_to(user: User) -> Select[tuple[int]]:
    """Apology ids with at least one session `user` may see (a facilitator's cohorts, an admin's institution)."""
    return (select(apology_sessions.c.apology_id)
            .join(ClassSession, ClassSession.id == apology_sessions.c.session_id)
            .join(Cohort, Cohort.id == ClassSession.cohort_id).where(session_filter(user)))


def apologies_page(session: Session, user: User, query: ApologyQuery) -> tuple[list[ApologyView], int]:
    """Apologies for sessions `user` may see, oldest pending first (the order they should be decided in)."""
    stmt = select(Apology.id).where(Apology.id.in_(visible_to(user)))
    if query.status:
        stmt = stmt.where(Apology.status == ApologyStatus(query.status))
    ids, total = fetch_page(session, stmt.order_by(Apology.created_at, Apology.id), query.page, query.per_page)
    return apology_views(session, ids), total


def pending_for_session(session: Session, session_id: int) -> list[ApologyView]:
    """The pending apologies covering one session (shown on its register, to who may see the register)."""
    ids = session.scalars(select(Apology.id).where(
        Apology.status == ApologyStatus.PENDING,
        exists().where(apology_sessions.c.apology_id == Apology.id, apology_sessions.c.session_id == session_id))
        .order_by(Apology.created_at, Apology.id)).all()
    return apology_views(session, ids)


def apology_file(session: Session, user: User, evidence_id: int) -> EvidenceFile | None:
    """The file sent with an apology `user` may see (a decider), else None (the caller answers 404)."""
    return session.scalar(select(EvidenceFile).join(Apology, Apology.evidence_file_id == EvidenceFile.id)
                          .where(EvidenceFile.id == evidence_id, Apology.id.in_(visible_to(user))).limit(1))
