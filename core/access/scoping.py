"""Which rows a user may see. One place answers "may this user act on this cohort?" for every view.

- super_admin: everything; admin and support: their institution;
- teacher: cohorts they are assigned to; org members: their organization's cohorts;
- regulator: cohorts covered by an APPROVED access request that has not expired (the whole institution,
  or the cohorts it names), judged on every request: access ends by itself.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from core import clock
from core.errors import Forbidden, NotFound
from core.i18n import N_
from core.models import (
    AccessRequest,
    AccessRequestStatus,
    AccessScope,
    ClassSession,
    Cohort,
    Enrolment,
    Learner,
    OrganizationGrant,
    Role,
    User,
    access_request_cohorts,
    cohort_facilitators,
)

from .permissions import ORGANIZATION_GATED, REGULATOR_GATED, role_has


def grants_in_force(user: User) -> ColumnElement[bool]:
    """A WHERE clause on AccessRequest: the regulator's approved requests that have not expired."""
    return and_(
        AccessRequest.regulator_id == user.id,
        AccessRequest.status == AccessRequestStatus.APPROVED,
        AccessRequest.expires_at > clock.now(),
    )


def organization_granted(organization_ids: ColumnElement[int] | list[int], permission: str) -> ColumnElement[bool]:
    return exists().where(OrganizationGrant.organization_id.in_(organization_ids),
                          OrganizationGrant.permission == permission)


def can(session: Session, user: User, permission: str) -> bool:
    """Role check, plus two gates: a regulator holds nothing but asking until a request is approved, and
    an organization member holds what their organization was granted only once it was."""
    if not role_has(user.role, permission):
        return False
    if user.role == Role.REGULATOR and permission in REGULATOR_GATED:
        return bool(session.scalar(select(exists().where(grants_in_force(user)))))
    if user.role == Role.ORG_MEMBER and permission in ORGANIZATION_GATED:
        return bool(session.scalar(select(organization_granted(user.organization_ids or [-1], permission))))
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
            whole = select(AccessRequest.institution_id).where(
                grants_in_force(user), AccessRequest.scope == AccessScope.INSTITUTION)
            named = (select(access_request_cohorts.c.cohort_id)
                     .join(AccessRequest, AccessRequest.id == access_request_cohorts.c.access_request_id)
                     .where(grants_in_force(user), AccessRequest.scope == AccessScope.COHORTS))
            return or_(Cohort.institution_id.in_(whole), Cohort.id.in_(named))
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
        raise Forbidden(N_("You do not have permission to do this."))
    cohort = session.scalar(select(Cohort).where(Cohort.id == cohort_id, cohort_filter(user)))
    if cohort is None:
        raise NotFound(N_("No such cohort, or it is not one you can see."))
    return cohort


def require(session: Session, user: User, permission: str) -> None:
    if not can(session, user, permission):
        raise Forbidden(N_("You do not have permission to do this."))
