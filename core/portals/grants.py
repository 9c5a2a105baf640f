"""Permissions an admin grants a client organization (per organization), e.g. `corporate_reports.view`:
its members may then download reports naming its own employees. Granting and revoking are audited."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import NotFound
from core.i18n import N_
from core.models import Organization, OrganizationGrant, Role, User
from core.uow import unit_of_work

from .commands import GrantPermission


def managed_organization(session: Session, admin: User, organization_id: int) -> Organization:
    """An organization of the admin's institution (any, for a super admin); 404 otherwise."""
    org = session.get(Organization, organization_id)
    if org is None or (admin.role != Role.SUPER_ADMIN and org.institution_id != admin.institution_id):
        raise NotFound(N_("No such organization."), code="not_found")
    return org


def grants_of(session: Session, admin: User, organization_id: int) -> list[OrganizationGrant]:
    managed_organization(session, admin, organization_id)
    return list(session.scalars(select(OrganizationGrant).where(OrganizationGrant.organization_id == organization_id)
                                .order_by(OrganizationGrant.permission)))


def grant(session: Session, admin: User, organization_id: int, command: GrantPermission) -> OrganizationGrant:
    """Idempotent: granting what is already granted returns the existing grant."""
    with unit_of_work(session):
        org = managed_organization(session, admin, organization_id)
        existing = session.scalar(select(OrganizationGrant).where(
            OrganizationGrant.organization_id == org.id, OrganizationGrant.permission == command.permission))
        if existing is not None:
            return existing
        row = OrganizationGrant(organization_id=org.id, permission=command.permission, granted_by_id=admin.id,
                                granted_at=clock.now())
        session.add(row)
        session.flush()
        audit.record(session, actor_id=admin.id, action="organization.grant", entity_type="organization",
                     entity_id=org.id, after={"permission": command.permission})
    return row


def revoke(session: Session, admin: User, organization_id: int, permission: str) -> bool:
    """Take a permission back; True if it was granted."""
    with unit_of_work(session):
        org = managed_organization(session, admin, organization_id)
        removed = session.execute(delete(OrganizationGrant).where(
            OrganizationGrant.organization_id == org.id, OrganizationGrant.permission == permission)).rowcount
        if removed:
            audit.record(session, actor_id=admin.id, action="organization.revoke_grant", entity_type="organization",
                         entity_id=org.id, before={"permission": permission})
    return bool(removed)
