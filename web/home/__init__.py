"""Each role's start page, the client organization's programme summary, and regulator access requests."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from sqlalchemy import func, select

from core.access import requests as access_requests
from core.access.scoping import cohort_filter
from core.cohorts.summary import programme_summaries
from core.errors import ValidationError
from core.models import ClassSession, Cohort, CohortStatus, CohortType, Institution, SessionStatus
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
    return render_template("home/teacher.html", console=facilitator_console(db.session, user()))


@bp.get("/org/programs")
@requires("org_programs.view")
def org_programs() -> Any:
    return render_template("home/org_programs.html", programmes=programme_summaries(db.session, user()))


@bp.route("/regulator", methods=["GET", "POST"])
@requires("access_requests.create")
def regulator_home() -> Any:
    if request.method == "POST":
        try:
            cohort_raw = request.form.get("cohort_id", "").strip()
            access_requests.request_access(
                db.session, user(),
                institution_id=int(request.form.get("institution_id", "0") or 0),
                cohort_id=int(cohort_raw) if cohort_raw else None,
                reason=request.form.get("reason", ""),
            )
        except ValueError:
            raise ValidationError("Choose an institution, and a cohort number if you name one.") from None
        flash("Request sent. You will have access once an administrator approves it.", "success")
        return redirect(url_for("home.regulator_home"))
    cohorts = db.session.scalars(select(Cohort).where(cohort_filter(user())).order_by(Cohort.name)).all()
    return render_template("home/regulator.html", requests=access_requests.requests_for(db.session, user()),
                           institutions=db.session.scalars(select(Institution).order_by(Institution.name)).all(),
                           cohorts=cohorts)


@bp.get("/admin/access-requests")
@requires("access_requests.manage")
def access_requests_admin() -> Any:
    return render_template("home/access_requests.html", requests=access_requests.requests_for(db.session, user()))


@bp.post("/admin/access-requests/<int:request_id>/decide")
@requires("access_requests.manage")
def access_request_decide(request_id: int) -> Any:
    decision = request.form.get("decision")
    if decision not in {"approve", "reject", "revoke"}:
        raise ValidationError("Choose approve, reject or revoke.")
    if decision == "revoke":
        access_requests.revoke(db.session, user(), request_id)
    else:
        try:
            days = int(request.form.get("days", "30"))
        except ValueError:
            raise ValidationError("Days must be a whole number.") from None
        access_requests.decide(db.session, user(), request_id, approve=decision == "approve", days=days)
    flash("Access request updated.", "success")
    return redirect(url_for("home.access_requests_admin"))
