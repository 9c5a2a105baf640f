"""Regulator access: a regulator asks (screens and API), an institution's admins approve with an expiry,
deny or revoke, and see every read made under each grant. The read audit itself is here too: one hook
records every successful regulator read of a gated route, with the grant(s) that allowed it."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import clock
from core.access import reads
from core.access import requests as access_requests
from core.access.commands import (
    AccessRequestQuery,
    ApproveAccessRequest,
    ChoiceQuery,
    CloseAccessRequest,
    CohortChoiceQuery,
    CreateAccessRequest,
)
from core.access.permissions import REGULATOR_GATED
from core.access.scoping import can, visible_cohort
from core.cohorts import reads as cohort_reads
from core.errors import ValidationError
from core.fields import PageQuery
from core.models import Role
from core.portals.rules import delivery
from core.registers import submissions

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..extensions import db
from ..i18n import current_language, institution_zone
from ..pagination import page_of, pages
from .schemas import (
    AccessRequestOut,
    CohortChoiceOut,
    InstitutionChoiceOut,
    ReadOut,
    present_cohort_choice,
    present_institution,
    present_read,
    present_request,
)

bp = Blueprint("access", __name__)
COHORT_CHOICES_SHOWN = 50
SUBMISSIONS_SHOWN = 100


# --- the read audit ---------------------------------------------------------------------------------------------

@bp.after_app_request
def audit_regulator_reads(response: Response) -> Response:
    """Record a regulator's successful read of any route gated by an access request, before it is sent:
    if the audit cannot be written, the read fails too."""
    if request.method != "GET" or not 200 <= response.status_code < 300:
        return response
    # The gate comes before `current_user`: loading the user reads the database, which routes that never
    # touch it (health, static pages) must not start to need, e.g. while the database is away.
    rule = getattr(current_app.view_functions.get(request.endpoint or ""), "access_rule", None)
    if rule is None or rule.permission not in REGULATOR_GATED:
        return response
    if not current_user.is_authenticated or current_user.role != Role.REGULATOR:
        return response
    path = request.full_path.rstrip("?")
    reads.record_read(db.session, user(), endpoint=request.endpoint or "", path=path, view_args=request.view_args or {})
    return response


# --- screens: the regulator ---------------------------------------------------------------------------------------

def _create_command(form: Any) -> CreateAccessRequest:
    return CreateAccessRequest.model_validate({
        "institution_id": form.get("institution_id"), "scope": form.get("scope") or "institution",
        "cohort_ids": form.getlist("cohort_ids"), "reason": form.get("reason", ""),
        "agency_name": form.get("agency_name") or None})


@bp.route("/regulator", methods=["GET", "POST"])
@requires("access_requests.create")
def regulator_home() -> Any:
    if request.method == "POST":
        access_requests.request_access(db.session, user(), _create_command(request.form))
        flash(_("Request sent. You will have access once an administrator approves it."), "success")
        return redirect(url_for("access.regulator_home"))
    language = current_language()
    institutions, _total = access_requests.institution_choices(db.session, ChoiceQuery(per_page=100), language)
    chosen_id = request.args.get("institution_id", type=int) or (institutions[0].id if institutions else None)
    q = request.args.get("q", "").strip()[:200]
    choices = (access_requests.cohort_choices(db.session, CohortChoiceQuery(
        institution_id=chosen_id, q=q, per_page=COHORT_CHOICES_SHOWN), language)[0] if chosen_id else [])
    mine, _total = access_requests.requests_page(db.session, user(), AccessRequestQuery(per_page=100))
    readable = cohort_reads.readable_cohorts(db.session, user(), language)
    return render_template("access/regulator.html", institutions=institutions, chosen_id=chosen_id, q=q,
                           choices=choices, requests=mine, readable=readable,
                           status_of=access_requests.effective_status)


@bp.get("/regulator/cohorts/<int:cohort_id>")
@requires("sessions.view")
def regulator_cohort(cohort_id: int) -> Any:
    """A cohort in scope, read-only: its sessions, each with its register, and its submitted registers."""
    cohort = visible_cohort(db.session, user(), cohort_id, "sessions.view")
    sessions, locks = cohort_reads.all_sessions(db.session, cohort.id, int(current_app.config["LOCK_GRACE_HOURS"]))
    submitted = (submissions.list_submissions(db.session, user(), 1, SUBMISSIONS_SHOWN, cohort_id=cohort.id)[0]
                 if can(db.session, user(), "registers.view") else [])
    now = clock.now()
    return render_template("access/regulator_cohort.html", cohort=cohort, sessions=sessions, submitted=submitted,
                           locks=locks, zone=institution_zone(cohort.institution_id),
                           delivery_of=lambda s: delivery(s.status, s.ends_at, now))


# --- screens: the institution's admins ------------------------------------------------------------------------------

@bp.get("/admin/access-requests")
@requires("access_requests.manage")
def admin_list() -> Any:
    query = AccessRequestQuery.model_validate(request.args.to_dict())
    items, total = access_requests.requests_page(db.session, user(), query)
    zone = institution_zone(user().institution_id)
    default_expiry = (clock.today_in(zone) + dt.timedelta(days=30)).isoformat()
    return render_template("access/admin_requests.html", requests=items, query=query,
                           page={"page": query.page, "pages": pages(total, query.per_page), "total": total},
                           status_of=access_requests.effective_status, default_expiry=default_expiry)


def _end_of_day(raw: str | None, institution_id: int) -> dt.datetime:
    """A date from the form, as the last minute of that day in the institution's time zone."""
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError(_("Choose the day access ends."), code="invalid_expiry") from None
    zone = institution_zone(institution_id)
    return dt.datetime.combine(day, dt.time(23, 59), ZoneInfo(zone))


@bp.post("/admin/access-requests/<int:request_id>/approve")
@requires("access_requests.manage")
def admin_approve(request_id: int) -> Any:
    req = access_requests.visible_request(db.session, user(), request_id)
    command = ApproveAccessRequest(expires_at=_end_of_day(request.form.get("expires_on"), req.institution_id))
    access_requests.approve(db.session, user(), request_id, command)
    flash(_("Access approved. The regulator has been told."), "success")
    return redirect(url_for("access.admin_list"))


@bp.post("/admin/access-requests/<int:request_id>/<any(deny, revoke):action>")
@requires("access_requests.manage")
def admin_close(request_id: int, action: str) -> Any:
    """Deny a pending request or revoke access in force, with a reason the regulator is told."""
    command = CloseAccessRequest.model_validate({"reason": request.form.get("reason", "")})
    if action == "deny":
        access_requests.deny(db.session, user(), request_id, command)
        flash(_("Request denied. The regulator has been told."), "success")
    else:
        access_requests.revoke(db.session, user(), request_id, command)
        flash(_("Access revoked. It ends now, and the regulator has been told."), "success")
    return redirect(url_for("access.admin_list"))


@bp.get("/admin/access-requests/<int:request_id>/reads")
@requires("access_requests.manage")
def admin_reads(request_id: int) -> Any:
    req = access_requests.visible_request(db.session, user(), request_id)
    query = PageQuery.model_validate(request.args.to_dict())
    items, total = reads.reads_page(db.session, user(), request_id, query)
    return render_template("access/reads.html", req=req, reads=items,
                           page={"page": query.page, "pages": pages(total, query.per_page), "total": total},
                           status_of=access_requests.effective_status)


# --- JSON API ----------------------------------------------------------------------------------------------------

@bp.post("/api/access-requests")
@requires("access_requests.create")
@contract(resp=responds(HTTP_201=AccessRequestOut))
def api_create(json: CreateAccessRequest) -> Any:
    """Ask for read-only access to an institution, or to named cohorts of it; its admins are mailed."""
    req = access_requests.request_access(db.session, user(), json)
    return present_request(req), 201


@bp.get("/api/access-requests")
@requires("access_requests.view")
@contract(resp=responds(HTTP_200=Page[AccessRequestOut]))
def api_list(query: AccessRequestQuery) -> Any:
    """A regulator's own requests; an admin's institution's (every institution's for a super admin)."""
    items, total = access_requests.requests_page(db.session, user(), query)
    return page_of(AccessRequestOut, [present_request(r) for r in items], total, query.page, query.per_page)


@bp.get("/api/access-requests/<int:request_id>")
@requires("access_requests.view")
@contract(resp=responds(HTTP_200=AccessRequestOut))
def api_get(request_id: int) -> Any:
    """One access request: who asked, for what, and where it stands."""
    return present_request(access_requests.visible_request(db.session, user(), request_id))


@bp.post("/api/access-requests/<int:request_id>/approve")
@requires("access_requests.manage")
@contract(resp=responds(HTTP_200=AccessRequestOut, HTTP_409=ErrorEnvelope))
def api_approve(request_id: int, json: ApproveAccessRequest) -> Any:
    """Approve a pending request until `expires_at`; access ends by itself then. The regulator is mailed."""
    return present_request(access_requests.approve(db.session, user(), request_id, json))


@bp.post("/api/access-requests/<int:request_id>/deny")
@requires("access_requests.manage")
@contract(resp=responds(HTTP_200=AccessRequestOut, HTTP_409=ErrorEnvelope))
def api_deny(request_id: int, json: CloseAccessRequest) -> Any:
    """Deny a pending request, with a reason told to the regulator."""
    return present_request(access_requests.deny(db.session, user(), request_id, json))


@bp.post("/api/access-requests/<int:request_id>/revoke")
@requires("access_requests.manage")
@contract(resp=responds(HTTP_200=AccessRequestOut, HTTP_409=ErrorEnvelope))
def api_revoke(request_id: int, json: CloseAccessRequest) -> Any:
    """End access in force now, with a reason told to the regulator."""
    return present_request(access_requests.revoke(db.session, user(), request_id, json))


@bp.get("/api/access-requests/<int:request_id>/reads")
@requires("access_requests.manage")
@contract(resp=responds(HTTP_200=Page[ReadOut]))
def api_reads(request_id: int, query: PageQuery) -> Any:
    """Every read the regulator made under this request, newest first."""
    items, total = reads.reads_page(db.session, user(), request_id, query)
    return page_of(ReadOut, [present_read(r) for r in items], total, query.page, query.per_page)


@bp.get("/api/access-requests/institution-choices")
@requires("access_requests.create")
@contract(resp=responds(HTTP_200=Page[InstitutionChoiceOut]))
def api_institution_choices(query: ChoiceQuery) -> Any:
    """Institutions to ask, by name."""
    items, total = access_requests.institution_choices(db.session, query, current_language())
    return page_of(InstitutionChoiceOut, [present_institution(i) for i in items], total, query.page,
                   query.per_page)


@bp.get("/api/access-requests/cohort-choices")
@requires("access_requests.create")
@contract(resp=responds(HTTP_200=Page[CohortChoiceOut]))
def api_cohort_choices(query: CohortChoiceQuery) -> Any:
    """An institution's cohorts by name (names, course and dates only), to name in a request."""
    items, total = access_requests.cohort_choices(db.session, query, current_language())
    return page_of(CohortChoiceOut, [present_cohort_choice(c) for c in items], total, query.page, query.per_page)
