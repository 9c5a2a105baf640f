"""The organization portal (screens and JSON API): a member's programmes, one programme's sessions and
attendance over time, and delivery/progress reports for organizations an admin granted them; plus the
admin's switch that grants an organization `corporate_reports.view`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from core.errors import Conflict
from core.models import Cohort, DocumentStatus
from core.portals import grants, programmes, reports
from core.portals.chart import rate_chart, session_points
from core.portals.commands import GrantPermission, ProgrammeQuery, RequestReport

from ..auth import requires, user
from ..contract import Page, contract, responds
from ..extensions import db
from ..i18n import current_language, document_language
from ..pagination import page_of, pages
from .schemas import (
    GrantOut,
    OrganizationRef,
    ProgrammeDetailOut,
    ProgrammePage,
    ReportOut,
    present_detail,
    present_grant,
    present_programme,
    present_report,
)

bp = Blueprint("portals", __name__)
CHOSEN_ORGANIZATION = "portal_organization_id"


def _programme_page(query: ProgrammeQuery) -> ProgrammePage:
    """The chosen organization's page of programmes; the choice is remembered in the browser session."""
    language = current_language()
    chosen, choices = programmes.choose_organization(db.session, user(), query.organization_id,
                                                     session.get(CHOSEN_ORGANIZATION), language)
    items, total = (programmes.programmes_page(db.session, user(), chosen.id, query.page, query.per_page, language)
                    if chosen else ([], 0))
    if chosen and query.organization_id:
        session[CHOSEN_ORGANIZATION] = chosen.id
    return ProgrammePage(organization=OrganizationRef(id=chosen.id, name=chosen.name) if chosen else None,
                         organizations=[OrganizationRef(id=c.id, name=c.name) for c in choices],
                         items=[present_programme(p) for p in items], page=query.page, per_page=query.per_page,
                         total=total, pages=pages(total, query.per_page))


def _chart(detail: programmes.ProgrammeDetail) -> Markup:
    svg = rate_chart(session_points(detail.sessions), _("Attendance rate per delivered session"),
                     _("No attendance recorded yet."))
    return Markup(svg)  # built from escaped values only (core.portals.chart)


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


# --- screens ---------------------------------------------------------------------------------------------------

@bp.get("/org/programs")
@requires("org_programs.view")
def org_programs() -> Any:
    query = ProgrammeQuery.model_validate(request.args.to_dict())
    return render_template("portals/programmes.html", listing=_programme_page(query))


@bp.get("/org/programs/<int:cohort_id>")
@requires("org_programs.view")
def programme(cohort_id: int) -> Any:
    detail = programmes.programme_detail(db.session, user(), cohort_id, current_language(), _grace())
    documents = reports.recent_reports(db.session, cohort_id) if detail.reports_allowed else []
    return render_template("portals/programme.html", d=detail, p=detail.programme, chart=_chart(detail),
                           documents=[present_report(doc) for doc in documents],
                           doc_language=document_language(True))


@bp.post("/org/programs/<int:cohort_id>/reports")
@requires("corporate_reports.view")
def request_report(cohort_id: int) -> Any:
    command = RequestReport.model_validate({"language": document_language(True), **request.form.to_dict()})
    reports.request_report(db.session, user(), cohort_id, command)
    flash(_("The report is being built; it appears below when ready."), "info")
    return redirect(url_for("portals.programme", cohort_id=cohort_id) + "#reports")


@bp.get("/org/reports/<int:document_id>/download")
@requires("corporate_reports.view")
def download_report(document_id: int) -> Any:
    doc = reports.visible_report(db.session, user(), document_id)
    if doc.status != DocumentStatus.READY or not doc.storage_key:
        raise Conflict(_("This report is not ready yet."), code="not_ready")
    name = reports.filename(doc, db.session.get(Cohort, doc.cohort_id).name)
    _kind, fmt = reports.report_of(doc)
    return Response(current_app.extensions["storage"].iter_chunks(doc.storage_key), mimetype=reports.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Content-Length": str(doc.size_bytes or 0), "Cache-Control": "private, no-store"})


@bp.route("/admin/organizations/<int:organization_id>/portal", methods=["GET", "POST"])
@requires("organizations.manage")
def organization_portal(organization_id: int) -> Any:
    """Grant or take back the organization's reports naming its employees."""
    if request.method == "POST":
        command = GrantPermission(permission="corporate_reports.view")
        if request.form.get("granted") == "1":
            grants.grant(db.session, user(), organization_id, command)
            flash(_("Its members may now download reports naming their own employees."), "success")
        else:
            grants.revoke(db.session, user(), organization_id, command.permission)
            flash(_("Reports naming employees are no longer available to its members."), "success")
        return redirect(url_for("portals.organization_portal", organization_id=organization_id))
    org = grants.managed_organization(db.session, user(), organization_id)
    held = {g.permission for g in grants.grants_of(db.session, user(), organization_id)}
    return render_template("portals/organization_access.html", org=org,
                           granted="corporate_reports.view" in held)


# --- JSON API --------------------------------------------------------------------------------------------------

@bp.get("/api/org/programs")
@requires("org_programs.view")
@contract(resp=responds(HTTP_200=ProgrammePage))
def api_programmes(query: ProgrammeQuery) -> Any:
    """Your organization's corporate programmes with counts and rates (no names). Members of several
    organizations pass `organization_id` (the choice is remembered in a browser session)."""
    return _programme_page(query)


@bp.get("/api/org/programs/<int:cohort_id>")
@requires("org_programs.view")
@contract(resp=responds(HTTP_200=ProgrammeDetailOut))
def api_programme(cohort_id: int) -> Any:
    """One programme: each session (date, time, type, delivered or cancelled, attendance counts)."""
    return present_detail(programmes.programme_detail(db.session, user(), cohort_id, current_language(), _grace()))


@bp.post("/api/org/programs/<int:cohort_id>/reports")
@requires("corporate_reports.view")
@contract(resp=responds(HTTP_202=ReportOut))
def api_request_report(cohort_id: int, json: RequestReport) -> Any:
    """Build a delivery or progress report (PDF or XLSX) in the background; poll `status_url`."""
    if json.language is None:
        json = json.model_copy(update={"language": document_language(False)})
    doc = reports.request_report(db.session, user(), cohort_id, json)
    return present_report(doc), 202


@bp.get("/api/org/reports/<int:document_id>")
@requires("corporate_reports.view")
@contract(resp=responds(HTTP_200=ReportOut))
def api_report(document_id: int) -> Any:
    """A programme report's status; its download link once built."""
    return present_report(reports.visible_report(db.session, user(), document_id))


@bp.get("/api/organizations/<int:organization_id>/grants")
@requires("organizations.manage")
@contract(resp=responds(HTTP_200=Page[GrantOut]))
def api_grants(organization_id: int) -> Any:
    """What the organization has been granted (a short list: one page)."""
    rows = grants.grants_of(db.session, user(), organization_id)
    return page_of(GrantOut, [present_grant(g) for g in rows], len(rows), 1, max(len(rows), 1))


@bp.post("/api/organizations/<int:organization_id>/grants")
@requires("organizations.manage")
@contract(resp=responds(HTTP_201=GrantOut))
def api_grant(organization_id: int, json: GrantPermission) -> Any:
    """Grant the organization a permission, e.g. `corporate_reports.view` (idempotent)."""
    return present_grant(grants.grant(db.session, user(), organization_id, json)), 201


@bp.delete("/api/organizations/<int:organization_id>/grants/<permission>")
@requires("organizations.manage")
@contract(resp=responds(HTTP_204=None))
def api_revoke_grant(organization_id: int, permission: str) -> Any:
    """Take a permission back from an organization."""
    grants.revoke(db.session, user(), organization_id, permission)
    return "", 204
