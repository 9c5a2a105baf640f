"""The main menu, grouped: each entry shows only to users holding its permission, and only once its screen exists.

Groups keep the admin menu within one line from 1024 px up; a group with one visible entry is shown as a
plain link, and a group with none is not shown at all.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.access.scoping import can

from .auth import HOME_BY_ROLE
from .extensions import db

# An entry's permission may be a tuple: the user needs every one of them.
MENU: list[tuple[Any, list[tuple[Any, str, str | tuple[str, ...]]]]] = [
    (_l("Home"), [
        (_l("Dashboard"), "home.admin_home", "cohorts.view"),
        (_l("My sessions"), "home.teacher_home", "attendance.mark"),
        (_l("Programmes"), "portals.org_programs", "org_programs.view"),
        (_l("My access"), "access.regulator_home", "access_requests.create"),
        (_l("My attendance"), "me.home", "own_record.view"),
        # A client organization's own invoices (its members, once granted; staff use Cohorts → Invoices).
        (_l("Our invoices"), "finance.org_invoice_list", ("org_programs.view", "corporate_finance.view")),
    ]),
    (_l("People"), [
        (_l("Learners"), "people.learner_list", "learners.view"),
        (_l("Staff"), "people.user_list", "users.manage"),
        (_l("Organizations"), "cohorts.organization_list", "organizations.view"),
    ]),
    (_l("Cohorts"), [
        (_l("All cohorts"), "cohorts.cohort_list", "cohorts.view"),
        (_l("Corporate cohorts"), "cohorts.corporate_cohort_list", "corporate_cohorts.view"),
        (_l("Qualifications"), "institutions.qualification_list", "qualifications.manage"),
        (_l("Invoices"), "finance.invoice_list", ("corporate_finance.view", "cohorts.view")),
    ]),
    (_l("Schedule"), [
        (_l("Calendar"), "scheduling.calendar", "sessions.view"),
        (_l("Rooms & holidays"), "scheduling.room_list", "sessions.manage"),
    ]),
    (_l("Attendance"), [
        (_l("Attendance by day"), "attendance.daily_view", "attendance.view"),
        (_l("Trainees at risk"), "at_risk.at_risk_screen", "at_risk.view"),
        (_l("Access requests"), "access.admin_list", "access_requests.manage"),
        (_l("Submissions"), "registers.submissions_screen", "registers.submit"),
        (_l("Check in"), "checkin.code_form", "own_record.view"),
    ]),
    (_l("Settings"), [
        (_l("Institutions"), "institutions.institution_list", "institutions.manage"),
        (_l("Check-in settings"), "checkin.settings_screen", "check_in.settings"),
        (_l("Billing details"), "finance.billing_details", "corporate_finance.manage"),
        (_l("Document seal"), "seals.seal_screen", "seals.manage"),
        (_l("Personal data"), "personal_data.retention_screen", "personal_data.records"),
    ]),
]


# Each role has one start page; the menu links only the user's own.
HOME_PAGES = frozenset(HOME_BY_ROLE.values())


def nav_groups() -> list[dict[str, Any]]:
    """[{label, items: [{label, url}]}] for the signed-in user."""
    if not current_user.is_authenticated:
        return []
    home = HOME_BY_ROLE[current_user.role]
    groups = []
    for label, entries in MENU:
        items = [{"label": text, "url": url_for(endpoint)} for text, endpoint, permission in entries
                 if endpoint in current_app.view_functions and _holds(permission)
                 and (endpoint not in HOME_PAGES or endpoint == home)]
        if items:
            groups.append({"label": label, "items": items})
    return groups


def _holds(permission: str | tuple[str, ...]) -> bool:
    wanted = (permission,) if isinstance(permission, str) else permission
    return all(can(db.session, current_user, p) for p in wanted)


def nav_items() -> list[dict[str, Any]]:
    """Every visible entry, flat (for tests and simple menus)."""
    return [item for group in nav_groups() for item in group["items"]]
