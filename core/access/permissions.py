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
    "check_in.settings",                          # self check-in: the anti-sharing rules (issue 21)
    "sessions.view", "sessions.manage",          # schedules, rooms, holidays
    "registers.view", "registers.generate",      # register documents (PDF/XLSX/CSV)
    "registers.submit",                           # hand a register in as an ATTENDANCE_REGISTER submission
    "organizations.view", "organizations.manage",
    "users.manage", "access_requests.manage", "audit.view",
    "qualifications.manage",                      # an institution's courses
    "institutions.manage",                        # tenants: super_admin only
    "seals.manage",                               # the institution's document seal: see, replace, upload (issue 22)
    "access_requests.view",                       # a regulator's own requests; an admin's institution's
    "org_programs.view",                          # a client organization's own programmes (no names)
    "corporate_reports.view",                     # reports naming its own employees: only once granted
    "access_requests.create",                     # a regulator asking for access
    "learners.invite",                            # learner accounts: invitations (issue 21)
    "apologies.decide",                           # learners' apologies: see and decide them
    "corporate_finance.view",                     # terms, billing schedules, invoices, credit notes, statements
    "corporate_finance.manage",                   # set terms and billing details; draft, issue, credit, pay
    "at_risk.view",                               # trainees at watch or worse, their exports (issue 24)
    # Personal data (issue 25): admins only; erasure also needs a fresh password confirmation.
    "personal_data.export",                       # a person's data export, corrections history, access log
    "personal_data.erase",                        # erase a person (legal holds kept)
    "personal_data.records",                      # retention, processing register, breach log, officer
]
# A learner's own record (/me): held by learners only, scoped to themselves (core.me).
LEARNER_OWN = ["own_record.view", "own_apologies.send"]
ALL_PERMISSIONS: frozenset[str] = frozenset(CORPORATE + PUBLIC + OPERATIONS + LEARNER_OWN)

# The support role: views cohorts and trainees, nothing else (no schedules, marks, registers or changes).
VIEW_COHORTS_AND_TRAINEES = frozenset({
    "cohorts.view", "learners.view", "corporate_cohorts.view", "corporate_trainees.view",
})
SUPPORT_VIEWS = VIEW_COHORTS_AND_TRAINEES | {"corporate_finance.view", "at_risk.view"}
_CLIENT_AND_REGULATOR_ONLY = {"org_programs.view", "corporate_reports.view", "access_requests.create",
                              *LEARNER_OWN}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.SUPER_ADMIN: ALL_PERMISSIONS - _CLIENT_AND_REGULATOR_ONLY,
    Role.ADMIN: ALL_PERMISSIONS - _CLIENT_AND_REGULATOR_ONLY - {"institutions.manage"},
    Role.SUPPORT: SUPPORT_VIEWS,
    # Scoped to assigned cohorts by core.access.scoping.
    Role.TEACHER: frozenset(
        VIEW_COHORTS_AND_TRAINEES
        | {"sessions.view", "attendance.view", "attendance.mark", "corporate_attendance.view",
           "corporate_attendance.mark", "registers.view", "registers.generate", "apologies.decide",
           "at_risk.view"}
    ),
    # Scoped to their organization: its programmes without names; reports naming its employees only
    # once an admin granted the organization corporate_reports.view (core.access.scoping).
    # Their organization's invoices, credit notes and statement only once granted corporate_finance.view.
    Role.ORG_MEMBER: frozenset({"org_programs.view", "corporate_reports.view", "corporate_finance.view"}),
    # Read-only, and only while an approved access request is in force (core.access.scoping).
    Role.REGULATOR: frozenset(
        {"access_requests.create", "access_requests.view", "cohorts.view", "corporate_cohorts.view",
         "sessions.view", "attendance.view", "corporate_attendance.view", "registers.view"}
    ),
    # Their own record only (core.me): no staff permission at all.
    Role.LEARNER: frozenset(LEARNER_OWN),
}

# Regulators hold these only through an approved, unexpired access request.
REGULATOR_GATED = frozenset(ROLE_PERMISSIONS[Role.REGULATOR] - {"access_requests.create", "access_requests.view"})
# Organization members hold these only while one of their organizations has been granted them.
ORGANIZATION_GATED = frozenset({"corporate_reports.view", "corporate_finance.view"})


def role_has(role: Role | str, permission: str) -> bool:
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS[Role(role)]
