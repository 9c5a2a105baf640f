"""The main menu: each entry shows only to users holding its permission, and only once its screen exists."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_login import current_user

from core.access.scoping import can

from .extensions import db

MENU: list[tuple[str, str, str]] = [
    ("Dashboard", "home.admin_home", "cohorts.view"),
    ("My sessions", "home.teacher_home", "attendance.mark"),
    ("Corporate cohorts", "cohorts.corporate_cohort_list", "corporate_cohorts.view"),
    ("Organizations", "cohorts.organization_list", "organizations.view"),
    ("Calendar", "scheduling.calendar", "sessions.view"),
    ("Rooms & holidays", "scheduling.room_list", "sessions.manage"),
    ("Daily attendance", "attendance.daily_view", "attendance.view"),
    ("Access requests", "access.admin_list", "access_requests.manage"),
    ("Programmes", "portals.org_programs", "org_programs.view"),
    ("My access", "access.regulator_home", "access_requests.create"),
]


def nav_items() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    items = []
    for label, endpoint, permission in MENU:
        if endpoint in current_app.view_functions and can(db.session, current_user, permission):
            items.append({"label": label, "url": url_for(endpoint)})
    return items
