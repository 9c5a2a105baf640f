"""Staff accounts: admins manage their own institution's people; only a super_admin reaches other institutions.

Deactivating a user ends their login sessions and API tokens at once (and sign-in refuses inactive users).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.access import auth
from core.access.auth import INSTITUTION_ROLES
from core.collation import collated, like_pattern, name_matches
from core.errors import Forbidden, NotFound, ValidationError
from core.i18n import N_
from core.institutions.phones import institution_mobile
from core.institutions.service import acting_institution
from core.models import ApiToken, Cohort, LoginSession, Organization, OrgMembership, Role, User, cohort_facilitators
from core.personal_data import corrections
from core.uow import unit_of_work

from .commands import ROLES_AN_ADMIN_GIVES, CreateUser, UpdateUser, UserQuery
from .jobs import WELCOME_LINK

USER_FIELDS = ("full_name", "role", "active")


def user_scope(actor: User) -> Any:
    return True if actor.role == Role.SUPER_ADMIN else User.institution_id == actor.institution_id


def users_query(actor: User, query: UserQuery, language: str = "en") -> Select[Any]:
    """Staff the actor may see, filtered; found by name accents and case aside, in `language`'s name order."""
    stmt = select(User).where(user_scope(actor))
    if query.q:
        stmt = stmt.where(or_(name_matches(User.full_name, query.q),
                              User.email.ilike(like_pattern(query.q), escape="\\")))
    if query.role:
        stmt = stmt.where(User.role == Role(query.role))
    if query.active is not None:
        stmt = stmt.where(User.active.is_(query.active))
    return stmt.order_by(collated(User.full_name, language), User.id)


def visible_user(session: Session, actor: User, user_id: int) -> User:
    found = session.scalar(select(User).where(User.id == user_id, user_scope(actor)))
    if found is None:
        raise NotFound(N_("No such user."))
    return found


def assigned_cohorts(session: Session, user_ids: list[int]) -> dict[int, list[int]]:
    """Cohort ids each user facilitates, in one query."""
    out: dict[int, list[int]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = session.execute(select(cohort_facilitators.c.user_id, cohort_facilitators.c.cohort_id)
                               .where(cohort_facilitators.c.user_id.in_(user_ids))
                               .order_by(cohort_facilitators.c.cohort_id))
        for uid, cid in rows:
            out[uid].append(cid)
    return out


def _check_role(actor: User, role: Role) -> None:
    if actor.role != Role.SUPER_ADMIN and role not in ROLES_AN_ADMIN_GIVES:
        raise Forbidden(N_("Only a super admin can give the role %(role)s."), code="role_not_allowed",
                        params={"role": role.value})


def _set_cohorts(session: Session, user: User, cohort_ids: list[int]) -> None:
    ids = sorted(set(cohort_ids))
    if ids and user.role != Role.TEACHER:
        raise ValidationError(N_("Only teachers facilitate cohorts."), code="not_a_teacher",
                              details=[{"field": "cohort_ids", "message": "Only teachers facilitate cohorts."}])
    found = set(session.scalars(select(Cohort.id).where(Cohort.id.in_(ids),
                                                        Cohort.institution_id == user.institution_id)))
    if missing := [i for i in ids if i not in found]:
        raise ValidationError(N_("Unknown cohorts for this institution."), code="unknown_cohort",
                              details=[{"field": "cohort_ids", "message": f"No such cohort: {i}."} for i in missing])
    session.execute(delete(cohort_facilitators).where(cohort_facilitators.c.user_id == user.id))
    if ids:
        session.execute(insert(cohort_facilitators), [{"cohort_id": c, "user_id": user.id} for c in ids])


def _organization_problem(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code, details=[{"field": "organization_id", "message": message}])


def _member_institution(session: Session, actor: User, command: CreateUser, role: Role) -> int | None:
    """The institution the new account belongs to. An organization member's is their organization's, which must
    be one of the acting institution's (an admin's own; a super admin's named one, else the organization's)."""
    if role != Role.ORG_MEMBER:
        if command.organization_id is not None:
            raise _organization_problem(N_("Only organization members belong to an organization."),
                                        "organization_not_allowed")
        if role in INSTITUTION_ROLES or command.institution_id is not None or actor.role != Role.SUPER_ADMIN:
            return acting_institution(session, actor, command.institution_id)
        return None
    if command.organization_id is None:
        raise _organization_problem(N_("An organization member needs an organization."), "organization_required")
    org_institution = session.scalar(select(Organization.institution_id)
                                     .where(Organization.id == command.organization_id))
    wanted = ((command.institution_id or org_institution) if actor.role == Role.SUPER_ADMIN
              else actor.institution_id)
    if org_institution is None or org_institution != wanted:
        raise _organization_problem(N_("No such organization at this institution."), "unknown_organization")
    return org_institution


def create_staff(session: Session, actor: User, command: CreateUser, *, invite: bool = True) -> User:
    """Create an account; without a password (and with `invite`) the user is mailed a link to choose one (a job,
    sent after commit)."""
    role = Role(command.role)
    with unit_of_work(session):
        _check_role(actor, role)
        institution_id = _member_institution(session, actor, command, role)
        user = auth.create_user(session, email=command.email, role=role, full_name=command.full_name,
                                password=command.password, institution_id=institution_id,
                                organization_id=command.organization_id)
        user.phone_e164 = institution_mobile(session, institution_id, command.phone)
        _set_cohorts(session, user, command.cohort_ids)
        audit.record(session, actor_id=actor.id, action="user.create", entity_type="user", entity_id=user.id,
                     after={"email": user.email, "role": role.value, "institution_id": institution_id})
        if invite and command.password is None:
            jobs.enqueue(session, WELCOME_LINK, user.id)
    return user


def update_staff(session: Session, actor: User, user_id: int, command: UpdateUser) -> User:
    with unit_of_work(session):
        user = visible_user(session, actor, user_id)
        if user.role == Role.SUPER_ADMIN and actor.role != Role.SUPER_ADMIN:
            raise Forbidden(N_("Only a super admin can change a super admin."), code="role_not_allowed")
        changes = command.model_dump(exclude_unset=True)
        if "role" in changes and user.role == Role.LEARNER and changes["role"] != Role.LEARNER:
            raise ValidationError(N_("A learner's account keeps its role: staff have accounts of their own."),
                                  code="role_not_allowed")
        if "role" in changes:
            _check_role(actor, Role(changes["role"]))
            changes["role"] = Role(changes["role"])
        if user.id == actor.id and (changes.get("active") is False or changes.get("role", user.role) != user.role):
            raise ValidationError(N_("You cannot deactivate yourself or change your own role."), code="self_change")
        before = {"full_name": user.full_name, "role": user.role.value, "active": user.active}
        personal_before = {"full_name": user.full_name, "phone_e164": user.phone_e164}
        reason = changes.pop("reason", None)
        cohort_ids = changes.pop("cohort_ids", None)
        if "phone" in changes:
            changes["phone_e164"] = institution_mobile(session, user.institution_id, changes.pop("phone"))
        if changes.get("role") == Role.ORG_MEMBER and user.role != Role.ORG_MEMBER and not user.memberships:
            raise _organization_problem(N_("An organization member needs an organization: add them from the "
                                           "organization's page."), "organization_required")
        for name, value in changes.items():
            setattr(user, name, value)
        if cohort_ids is not None or ("role" in changes and user.role != Role.TEACHER):
            _set_cohorts(session, user, cohort_ids or [])
        if before["active"] and not user.active:
            end_access(session, user.id)
        corrections.record(session, kind="users", person_id=user.id, institution_id=user.institution_id,
                           actor_id=actor.id, before=personal_before,
                           after={"full_name": user.full_name, "phone_e164": user.phone_e164}, reason=reason)
        audit.record(session, actor_id=actor.id, action="user.update", entity_type="user", entity_id=user.id,
                     before=before, after={"full_name": user.full_name, "role": user.role.value,
                                           "active": user.active, "cohort_ids": cohort_ids})
    return user


def end_access(session: Session, user_id: int) -> None:
    """Every browser signed out and every API token revoked, in the caller's transaction."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=clock.now()))


def organization_members(session: Session, organization_id: int, language: str = "en") -> list[User]:
    """The accounts of an organization's people, in `language`'s name order (the organization's page)."""
    return list(session.scalars(select(User).join(OrgMembership, OrgMembership.user_id == User.id)
                                .where(OrgMembership.organization_id == organization_id)
                                .order_by(collated(User.full_name, language), User.id)))
