"""Every permission the platform checks, and which role holds it by default (DESIGN §4)."""

from __future__ import annotations

from core.models import Role

# Corporate cohorts (issue contract names) and their public-cohort equivalents.
CORPORATE = [
    "corporate_cohorts.view", "corporate_cohorts.create", "corporate_cohorts.update", "corporate_cohorts.cancel",
    "corporate_trainees.view", "corporate_trainees.manage", "corporate_trainees.import",
    "corporate_attendance.view", "corporate_attendance.mark",
]
PUBLIC = [
    "cohorts.view", "cohorts.create", "cohorts.update", "cohorts.cancel",
    "learners.view", "learners.manage",
    "attendance.view", "attendance.mark",
]
OPERATIONS = [
    "attendance.lock", "attendance.unlock",
    "sessions.view", "sessions.manage",          # schedules, rooms, holidays
    "registers.view", "registers.generate",      # register documents (PDF/CSV)
    "organizations.view", "organizations.manage",
    "users.manage", "access_requests.manage", "audit.view",
    "qualifications.manage",                      # an institution's courses
    "institutions.manage",                        # tenants: super_admin only
    "org_programs.view",                          # a client organization's own summary
    "access_requests.create",                     # a regulator asking for access
]
ALL_PERMISSIONS: frozenset[str] = frozenset(CORPORATE + PUBLIC + OPERATIONS)

_VIEW_COHORTS_AND_TRAINEES = {
    "cohorts.view", "learners.view", "corporate_cohorts.view", "corporate_trainees.view", "sessions.view",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.SUPER_ADMIN: ALL_PERMISSIONS - {"org_programs.view", "access_requests.create"},
    Role.ADMIN: ALL_PERMISSIONS - {"org_programs.view", "access_requests.create", "institutions.manage"},
    Role.SUPPORT: frozenset(_VIEW_COHORTS_AND_TRAINEES),
    # Scoped to assigned cohorts by core.access.scoping.
    Role.TEACHER: frozenset(
        _VIEW_COHORTS_AND_TRAINEES
        | {"attendance.view", "attendance.mark", "corporate_attendance.view", "corporate_attendance.mark",
           "registers.view"}
    ),
    # Scoped to their organization; sees its programme summary and nothing more.
    Role.ORG_MEMBER: frozenset({"org_programs.view"}),
    # Read-only, and only while an approved access request is in force (core.access.scoping).
    Role.REGULATOR: frozenset(
        {"access_requests.create", "cohorts.view", "corporate_cohorts.view", "sessions.view",
         "attendance.view", "corporate_attendance.view", "registers.view"}
    ),
}

# Regulators hold these only through an approved, unexpired access request.
REGULATOR_GATED = frozenset(ROLE_PERMISSIONS[Role.REGULATOR] - {"access_requests.create"})


def role_has(role: Role | str, permission: str) -> bool:
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS[Role(role)]
