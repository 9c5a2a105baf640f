"""Which rows a user may see. One place answers "may this user act on this cohort?" for every view.

- super_admin: everything; admin and support: their institution;
- teacher: cohorts they are assigned to; org members: their organization's cohorts;
- regulator: cohorts covered by an APPROVED access request that has not expired.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from core import clock
from core.errors import Forbidden, NotFound
from core.models import (
    AccessRequest,
    AccessRequestStatus,
    ClassSession,
    Cohort,
    Enrolment,
    Learner,
    Role,
    User,
    cohort_facilitators,
)

from .permissions import REGULATOR_GATED, role_has


def _approved_requests(user: User) -> ColumnElement[bool]:
    return and_(
        AccessRequest.regulator_id == user.id,
        AccessRequest.status == AccessRequestStatus.APPROVED,
        AccessRequest.expires_at > clock.now(),
    )


def can(session: Session, user: User, permission: str) -> bool:
    """Role check, plus the regulator's gate: nothing but asking until a request is approved."""
    if not role_has(user.role, permission):
        return False
    if user.role == Role.REGULATOR and permission in REGULATOR_GATED:
        return bool(session.scalar(select(exists().where(_approved_requests(user)))))
    return True


def cohort_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on Cohort selecting the cohorts `user` may see."""
    match user.role:
        case Role.SUPER_ADMIN:
            return true()
        case Role.ADMIN | Role.SUPPORT:
            return Cohort.institution_id == user.institution_id
        case Role.TEACHER:
            assigned = select(cohort_facilitators.c.cohort_id).where(cohort_facilitators.c.user_id == user.id)
            return Cohort.id.in_(assigned)
        case Role.ORG_MEMBER:
            return Cohort.organization_id.in_(user.organization_ids or [-1])
        case Role.REGULATOR:
            granted = select(AccessRequest.institution_id, AccessRequest.cohort_id).where(_approved_requests(user))
            whole = select(AccessRequest.institution_id).where(
                _approved_requests(user), AccessRequest.cohort_id.is_(None)
            )
            return or_(
                Cohort.institution_id.in_(whole),
                Cohort.id.in_(select(granted.subquery().c.cohort_id)),
            )
    return false()


def session_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ClassSession (joined to its Cohort) selecting the sessions `user` may see.

    The instructor of a session always sees (and, holding the right, marks) that session, whether or not
    they facilitate its cohort; otherwise a session is visible when its cohort is."""
    if user.role == Role.TEACHER:
        return or_(cohort_filter(user), and_(ClassSession.instructor_id == user.id,
                                             ClassSession.institution_id == user.institution_id))
    return cohort_filter(user)


def learner_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on Learner: an institution's staff see its learners; a teacher sees the learners of the
    cohorts they may see; nobody else sees learners."""
    match user.role:
        case Role.SUPER_ADMIN:
            return true()
        case Role.ADMIN | Role.SUPPORT:
            return Learner.institution_id == user.institution_id
        case Role.TEACHER:
            enrolled = (select(Enrolment.learner_id).join(Cohort, Cohort.id == Enrolment.cohort_id)
                        .where(cohort_filter(user)))
            return Learner.id.in_(enrolled)
    return false()


def visible_cohort(session: Session, user: User, cohort_id: int, permission: str | None = None) -> Cohort:
    """The cohort, if `user` may see it (and holds `permission`); 404 otherwise.

    404 rather than 403 for cohorts outside the user's scope, so ids of other tenants leak nothing.
    """
    if permission and not can(session, user, permission):
        raise Forbidden("You do not have permission to do this.")
    cohort = session.scalar(select(Cohort).where(Cohort.id == cohort_id, cohort_filter(user)))
    if cohort is None:
        raise NotFound("No such cohort, or it is not one you can see.")
    return cohort


def require(session: Session, user: User, permission: str) -> None:
    if not can(session, user, permission):
        raise Forbidden("You do not have permission to do this.")
