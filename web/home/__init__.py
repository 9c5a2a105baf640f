"""Each role's start page (the organization portal and regulator access have their own blueprints)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from sqlalchemy import func, select

from core.access.scoping import cohort_filter
from core.models import ClassSession, Cohort, CohortStatus, CohortType, SessionStatus
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
    counts = dict(db.session.execute(
        select(Cohort.cohort_type, func.count()).where(cohort_filter(user()), Cohort.status == CohortStatus.ACTIVE)
        .group_by(Cohort.cohort_type)
    ).all())
    upcoming = db.session.scalar(
        select(func.count()).select_from(ClassSession).join(Cohort, Cohort.id == ClassSession.cohort_id)
        .where(cohort_filter(user()), ClassSession.status == SessionStatus.SCHEDULED,
               ClassSession.is_locked.is_(False))
    )
    cohorts = db.session.scalars(
        select(Cohort).where(cohort_filter(user())).order_by(Cohort.start_date.desc().nulls_last()).limit(20)
    ).all()
    return render_template("home/admin.html", public=counts.get(CohortType.PUBLIC, 0),
                           corporate=counts.get(CohortType.CORPORATE, 0), upcoming=upcoming or 0, cohorts=cohorts)


@bp.get("/teacher")
@requires("attendance.mark")
def teacher_home() -> Any:
    return render_template("home/teacher.html", console=facilitator_console(
        db.session, user(), grace_hours=int(current_app.config["LOCK_GRACE_HOURS"])))
