"""Regulator access requests: a regulator asks, an admin approves with an expiry, access ends by itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import Conflict, NotFound, ValidationError
from core.models import AccessRequest, AccessRequestStatus, Cohort, Institution, User

MAX_DAYS = 365


def request_access(session: Session, regulator: User, *, institution_id: int, cohort_id: int | None,
                   reason: str) -> AccessRequest:
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError("Say why you need access (at least 10 characters).", code="reason_required")
    if session.get(Institution, institution_id) is None:
        raise ValidationError("Unknown institution.", code="unknown_institution")
    if cohort_id is not None:
        cohort = session.get(Cohort, cohort_id)
        if cohort is None or cohort.institution_id != institution_id:
            raise ValidationError("That cohort is not at this institution.", code="unknown_cohort")
    req = AccessRequest(regulator_id=regulator.id, institution_id=institution_id, cohort_id=cohort_id,
                        reason=reason[:2000])
    session.add(req)
    session.commit()
    return req


def decide(session: Session, admin: User, request_id: int, *, approve: bool, days: int = 30) -> AccessRequest:
    req = session.get(AccessRequest, request_id)
    if req is None or (admin.institution_id is not None and req.institution_id != admin.institution_id
                       and admin.role != "super_admin"):
        raise NotFound("No such access request.")
    if req.status != AccessRequestStatus.PENDING:
        raise Conflict(f"This request is already {req.status.value.lower()}.")
    if approve and not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"Access lasts between 1 and {MAX_DAYS} days.", code="invalid_days")
    before = {"status": req.status.value}
    req.status = AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REJECTED
    req.decided_by_id, req.decided_at = admin.id, clock.now()
    req.expires_at = clock.now() + dt.timedelta(days=days) if approve else None
    audit.record(session, actor_id=admin.id, action="access_request.decide", entity_type="access_request",
                 entity_id=req.id, before=before,
                 after={"status": req.status.value,
                        "expires_at": req.expires_at.isoformat() if req.expires_at else None})
    session.commit()
    return req


def revoke(session: Session, admin: User, request_id: int) -> AccessRequest:
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise NotFound("No such access request.")
    if req.status != AccessRequestStatus.APPROVED:
        raise Conflict("Only approved requests can be revoked.")
    req.status = AccessRequestStatus.REVOKED
    audit.record(session, actor_id=admin.id, action="access_request.revoke", entity_type="access_request",
                 entity_id=req.id, before={"status": "APPROVED"}, after={"status": "REVOKED"})
    session.commit()
    return req


def requests_for(session: Session, user: User) -> list[AccessRequest]:
    stmt = select(AccessRequest).order_by(AccessRequest.created_at.desc())
    if user.role == "regulator":
        stmt = stmt.where(AccessRequest.regulator_id == user.id)
    elif user.role != "super_admin":
        stmt = stmt.where(AccessRequest.institution_id == user.institution_id)
    return list(session.scalars(stmt.limit(500)))
