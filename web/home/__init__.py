"""Each role's start page (the organization portal and regulator access have their own blueprints)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for

from core.cohorts.reads import admin_overview
from core.scheduling.console import facilitator_console

from ..auth import HOME_BY_ROLE, public, requires, signed_in, user
from ..extensions import db

bp = Blueprint("home", __name__)


@bp.get("/")
@signed_in
def index() -> Any:
    return redirect(url_for(HOME_BY_ROLE[user().role]))


@bp.get("/favicon.ico")
@public
def favicon() -> Any:
    return send_from_directory(current_app.static_folder or "static", "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)


@bp.get("/admin")
@requires("cohorts.view")
def admin_home() -> Any:
    overview = admin_overview(db.session, user())
    return render_template("home/admin.html", public=overview.public, corporate=overview.corporate,
                           upcoming=overview.upcoming, cohorts=overview.cohorts)


@bp.get("/teacher")
@requires("attendance.mark")
def teacher_home() -> Any:
    return render_template("home/teacher.html", console=facilitator_console(
        db.session, user(), grace_hours=int(current_app.config["LOCK_GRACE_HOURS"])))
