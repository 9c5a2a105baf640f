"""Regulator access requests: a regulator asks for an institution or named cohorts, an admin of that
institution approves with an expiry (or denies), and may revoke. Access is judged on every request
(core.access.scoping), so it ends by itself; every change is audited and mailed (core.access.notices).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from core import audit, clock
from core.collation import collated, name_matches
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    AccessRequest,
    AccessRequestStatus,
    AccessScope,
    Cohort,
    Institution,
    Qualification,
    Role,
    User,
)
from core.uow import unit_of_work

from . import notices
from .commands import (
    AccessRequestQuery,
    ApproveAccessRequest,
    ChoiceQuery,
    CloseAccessRequest,
    CohortChoiceQuery,
    CreateAccessRequest,
)

MAX_DAYS = 365


@dataclass(frozen=True)
class CohortChoice:
    id: int
    name: str
    course: str | None
    start_date: dt.date | None
    end_date: dt.date | None


def effective_status(req: AccessRequest, now: dt.datetime | None = None) -> str:
    """The stored status, or EXPIRED for an approved request past its expiry."""
    if req.status == AccessRequestStatus.APPROVED and not req.in_force(now or clock.now()):
        return "EXPIRED"
    return req.status.value


def request_access(session: Session, regulator: User, command: CreateAccessRequest) -> AccessRequest:
    """A PENDING request; the institution's admins are mailed (notices owed in the same transaction)."""
    with unit_of_work(session):
        if session.get(Institution, command.institution_id) is None:
            raise ValidationError(N_("Unknown institution."), code="unknown_institution",
                                  details=[{"field": "institution_id", "message": "No such institution."}])
        cohorts: list[Cohort] = []
        if command.scope == AccessScope.COHORTS:
            wanted = sorted(set(command.cohort_ids))
            if not wanted:
                raise ValidationError(N_("Choose at least one cohort, or ask for the whole institution."),
                                      code="cohorts_required")
            cohorts = list(session.scalars(select(Cohort).where(
                Cohort.id.in_(wanted), Cohort.institution_id == command.institution_id)))
            unknown = sorted(set(wanted) - {c.id for c in cohorts})
            if unknown:
                raise ValidationError(N_("Some cohorts are not at this institution."), code="unknown_cohort",
                                      details=[{"field": "cohort_ids", "message": f"Unknown cohort {i}."}
                                               for i in unknown])
        elif command.cohort_ids:
            raise ValidationError(N_("Name cohorts only with the scope \"cohorts\"."), code="cohorts_not_allowed")
        if command.agency_name:
            regulator.agency_name = command.agency_name
        req = AccessRequest(regulator_id=regulator.id, institution_id=command.institution_id,
                            scope=AccessScope(command.scope), reason=command.reason,
                            status=AccessRequestStatus.PENDING)
        req.cohorts = cohorts
        session.add(req)
        session.flush()
        audit.record(session, actor_id=regulator.id, action="access_request.create", entity_type="access_request",
                     entity_id=req.id, after={"scope": req.scope.value, "cohort_ids": [c.id for c in cohorts]})
        notices.plan(session, req, notices.REQUESTED)
    return req


def _visible_to(user: User) -> ColumnElement[bool]:
    if user.role == Role.REGULATOR:
        return AccessRequest.regulator_id == user.id
    if user.role == Role.SUPER_ADMIN:
        return AccessRequest.id.is_not(None)
    return AccessRequest.institution_id == user.institution_id


def visible_request(session: Session, user: User, request_id: int) -> AccessRequest:
    """The request, if `user` may see it: their own (regulator) or their institution's (admin); else 404."""
    req = session.scalar(select(AccessRequest).where(AccessRequest.id == request_id, _visible_to(user)))
    if req is None:
        raise NotFound(N_("No such access request."), code="not_found")
    return req


def _managed(session: Session, admin: User, request_id: int) -> AccessRequest:
    req = session.scalar(select(AccessRequest).where(AccessRequest.id == request_id, _visible_to(admin))
                         .with_for_update(of=AccessRequest))
    if req is None or admin.role == Role.REGULATOR:
        raise NotFound(N_("No such access request."), code="not_found")
    return req


def _pending(session: Session, admin: User, request_id: int) -> AccessRequest:
    req = _managed(session, admin, request_id)
    if req.status != AccessRequestStatus.PENDING:
        raise Conflict(N_("This request is already %(status)s."), code="already_decided",
                       params={"status": effective_status(req).lower()})
    return req


def _close(session: Session, admin: User, req: AccessRequest, status: AccessRequestStatus, action: str,
           after: dict[str, object]) -> None:
    before = {"status": effective_status(req)}
    req.status = status
    audit.record(session, actor_id=admin.id, action=action, entity_type="access_request", entity_id=req.id,
                 before=before, after={"status": status.value, **after})


def approve(session: Session, admin: User, request_id: int, command: ApproveAccessRequest) -> AccessRequest:
    with unit_of_work(session):
        req = _pending(session, admin, request_id)
        now = clock.now()
        if command.expires_at <= now:
            raise ValidationError(N_("The expiry must be in the future."), code="expiry_in_past",
                                  details=[{"field": "expires_at", "message": "Must be in the future."}])
        if command.expires_at > now + dt.timedelta(days=MAX_DAYS):
            raise ValidationError(N_("Access lasts at most %(days)d days."), code="expiry_too_far",
                                  params={"days": MAX_DAYS},
                                  details=[{"field": "expires_at", "message": f"At most {MAX_DAYS} days ahead."}])
        _close(session, admin, req, AccessRequestStatus.APPROVED, "access_request.approve",
               {"expires_at": command.expires_at.isoformat()})
        req.decided_by_id, req.decided_at, req.expires_at = admin.id, now, command.expires_at
        notices.plan(session, req, notices.APPROVED)
    return req


def deny(session: Session, admin: User, request_id: int, command: CloseAccessRequest) -> AccessRequest:
    with unit_of_work(session):
        req = _pending(session, admin, request_id)
        _close(session, admin, req, AccessRequestStatus.DENIED, "access_request.deny", {"reason": command.reason})
        req.decided_by_id, req.decided_at, req.decision_reason = admin.id, clock.now(), command.reason
        notices.plan(session, req, notices.DENIED)
    return req


def revoke(session: Session, admin: User, request_id: int, command: CloseAccessRequest) -> AccessRequest:
    with unit_of_work(session):
        req = _managed(session, admin, request_id)
        if not req.in_force(clock.now()):
            raise Conflict(N_("Only access in force can be revoked; this request is %(status)s."),
                           code="not_in_force", params={"status": effective_status(req).lower()})
        _close(session, admin, req, AccessRequestStatus.REVOKED, "access_request.revoke",
               {"reason": command.reason})
        req.revoked_by_id, req.revoked_at, req.revoke_reason = admin.id, clock.now(), command.reason
        notices.plan(session, req, notices.REVOKED)
    return req


def _status_filter(status: str) -> ColumnElement[bool]:
    now = clock.now()
    if status == "EXPIRED":
        return and_(AccessRequest.status == AccessRequestStatus.APPROVED, AccessRequest.expires_at <= now)
    if status == "APPROVED":
        return and_(AccessRequest.status == AccessRequestStatus.APPROVED, AccessRequest.expires_at > now)
    return AccessRequest.status == AccessRequestStatus(status)


def requests_page(session: Session, user: User, query: AccessRequestQuery) -> tuple[list[AccessRequest], int]:
    """A page of the requests `user` may see, newest first, and how many there are."""
    where = [_visible_to(user)]
    if query.status:
        where.append(_status_filter(query.status))
    total = session.scalar(select(func.count()).select_from(AccessRequest).where(*where)) or 0
    items = session.scalars(select(AccessRequest).where(*where)
                            .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
                            .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return list(items), total


def _name_like(column: ColumnElement[str], q: str) -> ColumnElement[bool]:
    """Every word of `q` somewhere in the name, accents and case aside."""
    words = q.split()
    return and_(*[name_matches(column, w) for w in words]) if words else true()


def institution_choices(session: Session, query: ChoiceQuery, language: str = "en") -> tuple[list[Institution], int]:
    """Institutions a regulator may ask, by name (names only), in `language`'s name order."""
    where = _name_like(Institution.name, query.q)
    total = session.scalar(select(func.count()).select_from(Institution).where(where)) or 0
    rows = session.scalars(select(Institution).where(where).order_by(collated(Institution.name, language),
                                                                      Institution.id)
                           .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return list(rows), total


def cohort_choices(session: Session, query: CohortChoiceQuery, language: str = "en"
                   ) -> tuple[list[CohortChoice], int]:
    """An institution's cohorts by name, for a regulator to pick: names, course and dates, nothing more."""
    where = and_(Cohort.institution_id == query.institution_id, _name_like(Cohort.name, query.q))
    total = session.scalar(select(func.count()).select_from(Cohort).where(where)) or 0
    rows = session.execute(
        select(Cohort.id, Cohort.name, Qualification.title, Cohort.start_date, Cohort.end_date)
        .outerjoin(Qualification, Qualification.id == Cohort.qualification_id).where(where)
        .order_by(collated(Cohort.name, language), Cohort.id)
        .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return [CohortChoice(id=r.id, name=r.name, course=r.title, start_date=r.start_date, end_date=r.end_date)
            for r in rows], total
