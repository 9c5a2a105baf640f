"""Cohorts of both kinds: the institution's cohort list and page (public cohorts, enrolments, facilitators: see
.public), and organizations, agreements and corporate cohorts (issue 3). Views translate the request, call one
use case in core.cohorts, and render or answer JSON shaped by .schemas.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.access.scoping import can, visible_cohort
from core.attendance.locking import lock_states
from core.attendance.roster import roster_sizes
from core.cohorts import reads, service
from core.cohorts.commands import (
    AgreementQuery,
    CorporateCohortQuery,
    CreateAgreement,
    CreateCorporateCohort,
    CreateOrganization,
    OrganizationQuery,
    SetAgreementStatus,
    UpdateCorporateCohort,
)
from core.models import (
    AgreementStatus,
    Cohort,
    CohortStatus,
    CorporateAgreement,
    ImportStatus,
    Organization,
    Qualification,
)
from core.people import staff
from core.people.commands import CreateUser

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..extensions import db
from ..forms import form_command
from ..i18n import current_language
from ..pagination import paginate, query_page
from .schemas import (
    AgreementOut,
    CancelledCohortOut,
    CorporateCohortOut,
    OrganizationOut,
    present_agreement,
    present_corporate_cohort,
    present_organization,
)

bp = Blueprint("cohorts", __name__)


def _corporate(cohort_id: int, permission: str) -> Cohort:
    return service.corporate_cohort(db.session, visible_cohort(db.session, user(), cohort_id, permission))


def _with_counts(cohorts: list[Cohort]) -> list[dict[str, Any]]:
    ids = [c.id for c in cohorts]
    sizes, sessions = roster_sizes(db.session, ids), reads.session_counts(db.session, ids)
    return [present_corporate_cohort(c, sizes.get(c.id, 0), sessions.get(c.id, 0)) for c in cohorts]


def _agreement_row(row: Any) -> dict[str, Any]:
    return present_agreement(row[0], row[1])


# ---------------------------------------------------------------- organizations: API


@bp.get("/api/organizations")
@requires("organizations.view")
@contract(resp=responds(HTTP_200=Page[OrganizationOut]))
def api_organization_list(query: OrganizationQuery) -> Any:
    """Client organizations, by name."""
    return query_page(service.organizations_query(user(), query.q, current_language()), query, present_organization)


@bp.post("/api/organizations")
@requires("organizations.manage")
@contract(resp=responds(HTTP_201=OrganizationOut, HTTP_409=ErrorEnvelope))
def api_organization_create(json: CreateOrganization) -> Any:
    """Add a client organization."""
    return present_organization(service.create_organization(db.session, user(), json)), 201


@bp.get("/api/organizations/<int:organization_id>")
@requires("organizations.view")
@contract(resp=responds(HTTP_200=OrganizationOut))
def api_organization_detail(organization_id: int) -> Any:
    """One client organization."""
    return present_organization(service.visible_organization(db.session, user(), organization_id))


@bp.get("/api/organizations/<int:organization_id>/agreements")
@requires("organizations.view")
@contract(resp=responds(HTTP_200=Page[AgreementOut]))
def api_agreement_list(organization_id: int, query: AgreementQuery) -> Any:
    """An organization's corporate agreements."""
    service.visible_organization(db.session, user(), organization_id)
    stmt = service.agreements_query(user(), organization_id=organization_id, status=query.status)
    return query_page(stmt, query, _agreement_row, scalars=False)


@bp.post("/api/organizations/<int:organization_id>/agreements")
@requires("organizations.manage")
@contract(resp=responds(HTTP_201=AgreementOut, HTTP_409=ErrorEnvelope))
def api_agreement_create(organization_id: int, json: CreateAgreement) -> Any:
    """Add a corporate agreement to an organization."""
    return present_agreement(service.create_agreement(db.session, user(), organization_id, json)), 201


@bp.get("/api/corporate-agreements")
@requires("organizations.view")
@contract(resp=responds(HTTP_200=Page[AgreementOut]))
def api_agreements(query: AgreementQuery) -> Any:
    """Corporate agreements of every organization you may see (optionally by `status`)."""
    return query_page(service.agreements_query(user(), status=query.status), query, _agreement_row, scalars=False)


@bp.post("/api/corporate-agreements/<int:agreement_id>/status")
@requires("organizations.manage")
@contract(resp=responds(HTTP_200=AgreementOut))
def api_agreement_status(agreement_id: int, json: SetAgreementStatus) -> Any:
    """Change an agreement's status; only an ACTIVE agreement may start cohorts."""
    return present_agreement(service.set_agreement_status(db.session, user(), agreement_id, json))


@bp.post("/api/corporate-agreements/<int:agreement_id>/cohorts")
@requires("corporate_cohorts.create")
@contract(resp=responds(HTTP_201=CorporateCohortOut))
def api_corporate_cohort_create(agreement_id: int, json: CreateCorporateCohort) -> Any:
    """Start a corporate cohort under an active agreement."""
    return present_corporate_cohort(service.create_corporate_cohort(db.session, user(), agreement_id, json), 0, 0), 201


# ---------------------------------------------------------------- corporate cohorts: API


@bp.get("/api/corporate-cohorts")
@requires("corporate_cohorts.view")
@contract(resp=responds(HTTP_200=Page[CorporateCohortOut]))
def api_corporate_cohort_list(query: CorporateCohortQuery) -> Any:
    """Corporate cohorts, with their organization and agreement."""
    stmt = reads.corporate_cohorts_query(user(), query.q, query.status, current_language())
    page = query_page(stmt, query, lambda c: c)
    page["items"] = _with_counts(page["items"])
    return page


@bp.get("/api/corporate-cohorts/<int:cohort_id>")
@requires("corporate_cohorts.view")
@contract(resp=responds(HTTP_200=CorporateCohortOut))
def api_corporate_cohort_detail(cohort_id: int) -> Any:
    """One corporate cohort."""
    return _with_counts([_corporate(cohort_id, "corporate_cohorts.view")])[0]


@bp.patch("/api/corporate-cohorts/<int:cohort_id>")
@requires("corporate_cohorts.update")
@contract(resp=responds(HTTP_200=CorporateCohortOut))
def api_corporate_cohort_update(cohort_id: int, json: UpdateCorporateCohort) -> Any:
    """Change a corporate cohort's details (fields left out keep their value)."""
    cohort = _corporate(cohort_id, "corporate_cohorts.update")
    return present_corporate_cohort(service.update_corporate_cohort(db.session, user(), cohort, json))


@bp.post("/api/corporate-cohorts/<int:cohort_id>/cancel")
@requires("corporate_cohorts.cancel")
@contract(resp=responds(HTTP_200=CancelledCohortOut))
def api_corporate_cohort_cancel(cohort_id: int) -> Any:
    """Cancel a corporate cohort."""
    cohort = _corporate(cohort_id, "corporate_cohorts.cancel")
    cancelled = service.cancel_corporate_cohort(db.session, user(), cohort)
    return {**present_corporate_cohort(cohort), "sessions_cancelled": cancelled}


# ---------------------------------------------------------------- screens


@bp.get("/admin/organizations")
@requires("organizations.view")
def organization_list() -> Any:
    page = paginate(service.organizations_query(user(), request.args.get("q", "").strip()[:200], current_language()),
                    lambda o: o)
    return render_template("cohorts/organizations.html", page=page, q=request.args.get("q", ""))


@bp.post("/admin/organizations")
@requires("organizations.manage")
def organization_create() -> Any:
    org = service.create_organization(db.session, user(), form_command(CreateOrganization))
    flash(_("Organization “%(name)s” created.", name=org.name), "success")
    return redirect(url_for("cohorts.organization_detail", organization_id=org.id))


@bp.get("/admin/organizations/<int:organization_id>")
@requires("organizations.view")
def organization_detail(organization_id: int) -> Any:
    org = service.visible_organization(db.session, user(), organization_id)
    agreements = [r[0] for r in db.session.execute(service.agreements_query(user(), organization_id=org.id))]
    cohorts = reads.organization_cohorts(db.session, user(), org.id, current_language())
    members = staff.organization_members(db.session, org.id, current_language())
    return render_template("cohorts/organization_detail.html", org=org, agreements=agreements, cohorts=cohorts,
                           statuses=list(AgreementStatus), transitions=service.AGREEMENT_TRANSITIONS,
                           members=members)


@bp.post("/admin/organizations/<int:organization_id>/members")
@requires("users.manage")
def organization_member_create(organization_id: int) -> Any:
    """Add a person of this organization (role org_member, the organization preset); without a password they
    are mailed a link to choose one."""
    org = service.visible_organization(db.session, user(), organization_id)
    command = form_command(CreateUser, role="org_member", organization_id=org.id, institution_id=org.institution_id)
    created = staff.create_staff(db.session, user(), command)
    flash(_("%(name)s can now sign in.", name=created.full_name) if created.password_hash else
          _("%(name)s was sent a link to choose a password.", name=created.full_name), "success")
    return redirect(url_for("cohorts.organization_detail", organization_id=org.id) + "#members")


@bp.post("/admin/organizations/<int:organization_id>/agreements")
@requires("organizations.manage")
def agreement_create(organization_id: int) -> Any:
    agreement = service.create_agreement(db.session, user(), organization_id, form_command(CreateAgreement))
    flash(_("Agreement %(ref)s created (%(status)s).", ref=agreement.reference, status=agreement.status.value),
          "success")
    return redirect(url_for("cohorts.organization_detail", organization_id=organization_id))


@bp.post("/admin/corporate-agreements/<int:agreement_id>/status")
@requires("organizations.manage")
def agreement_status(agreement_id: int) -> Any:
    agreement = service.set_agreement_status(db.session, user(), agreement_id, form_command(SetAgreementStatus))
    flash(_("Agreement %(ref)s is now %(status)s.", ref=agreement.reference, status=agreement.status.value),
          "success")
    return redirect(url_for("cohorts.organization_detail", organization_id=agreement.organization_id))


@bp.get("/admin/corporate-agreements/<int:agreement_id>/cohorts/create")
@requires("corporate_cohorts.create")
def corporate_cohort_create_form(agreement_id: int) -> Any:
    agreement = service.visible_agreement(db.session, user(), agreement_id)
    org = db.session.get(Organization, agreement.organization_id)
    return render_template("cohorts/corporate_cohort_form.html", agreement=agreement, org=org, cohort=None,
                           qualifications=_qualifications(org.institution_id if org else None),
                           action=url_for("cohorts.corporate_cohort_create", agreement_id=agreement.id))


@bp.post("/admin/corporate-agreements/<int:agreement_id>/cohorts/create")
@requires("corporate_cohorts.create")
def corporate_cohort_create(agreement_id: int) -> Any:
    cohort = service.create_corporate_cohort(db.session, user(), agreement_id, form_command(CreateCorporateCohort))
    flash(_("Cohort “%(name)s” created.", name=cohort.name), "success")
    return redirect(url_for("cohorts.corporate_cohort_detail", cohort_id=cohort.id))


@bp.get("/admin/corporate-cohorts")
@requires("corporate_cohorts.view")
def corporate_cohort_list() -> Any:
    query = CorporateCohortQuery(q=request.args.get("q", "").strip()[:200],
                                 status=request.args.get("status", "").strip().upper() or None)
    page = paginate(reads.corporate_cohorts_query(user(), query.q, query.status, current_language()), lambda c: c)
    ids = [c.id for c in page["items"]]
    orgs = reads.organization_names(db.session, (c.organization_id for c in page["items"]))
    active_agreements = []
    if can(db.session, user(), "corporate_cohorts.create"):
        active_agreements = [r[0] for r in db.session.execute(service.agreements_query(user(), status="ACTIVE"))]
    return render_template("cohorts/corporate_cohorts.html", page=page, sizes=roster_sizes(db.session, ids),
                           sessions=reads.session_counts(db.session, ids), orgs=orgs, q=request.args.get("q", ""),
                           status=request.args.get("status", ""), statuses=list(CohortStatus),
                           active_agreements=active_agreements)


@bp.get("/admin/corporate-cohorts/<int:cohort_id>")
@requires("corporate_cohorts.view")
def corporate_cohort_detail(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.view")
    org = db.session.get(Organization, cohort.organization_id)
    agreement = db.session.get(CorporateAgreement, cohort.agreement_id)
    course = db.session.get(Qualification, cohort.qualification_id) if cohort.qualification_id else None
    trainees = None
    if can(db.session, user(), "corporate_trainees.view"):
        trainees = paginate(service.trainees_query(cohort.id, request.args.get("q", "").strip()[:200],
                                                   current_language()), lambda t: t,
                            default_per_page=25)
    imports = reads.recent_imports(db.session, cohort.id)
    sessions = reads.first_sessions(db.session, cohort.id)
    return render_template("cohorts/corporate_cohort_detail.html", cohort=cohort, org=org, agreement=agreement,
                           course=course, trainees=trainees, imports=imports, sessions=sessions,
                           locks=lock_states(db.session, sessions, int(current_app.config["LOCK_GRACE_HOURS"])),
                           trainee_total=roster_sizes(db.session, [cohort.id]).get(cohort.id, 0),
                           q=request.args.get("q", ""), ImportStatus=ImportStatus, billing=_billing(cohort.id))


def _billing(cohort_id: int) -> dict[str, Any] | None:
    """The billing schedule shown on the corporate cohort page, to those who may see finance (issue 23)."""
    if not can(db.session, user(), "corporate_finance.view"):
        return None
    from core.finance.reads import billing_schedule

    from ..finance.schemas import present_schedule

    return present_schedule(billing_schedule(db.session, user(), cohort_id))


@bp.get("/admin/corporate-cohorts/<int:cohort_id>/edit")
@requires("corporate_cohorts.update")
def corporate_cohort_edit_form(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.update")
    agreement = db.session.get(CorporateAgreement, cohort.agreement_id)
    org = db.session.get(Organization, cohort.organization_id)
    return render_template("cohorts/corporate_cohort_form.html", agreement=agreement, org=org, cohort=cohort,
                           qualifications=_qualifications(cohort.institution_id),
                           action=url_for("cohorts.corporate_cohort_edit", cohort_id=cohort.id))


@bp.post("/admin/corporate-cohorts/<int:cohort_id>/edit")
@requires("corporate_cohorts.update")
def corporate_cohort_edit(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.update")
    service.update_corporate_cohort(db.session, user(), cohort, form_command(UpdateCorporateCohort))
    flash(_("Cohort saved."), "success")
    return redirect(url_for("cohorts.corporate_cohort_detail", cohort_id=cohort_id))


@bp.post("/admin/corporate-cohorts/<int:cohort_id>/cancel")
@requires("corporate_cohorts.cancel")
def corporate_cohort_cancel(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.cancel")
    cancelled = service.cancel_corporate_cohort(db.session, user(), cohort)
    flash(_("Cohort cancelled; %(n)d future session(s) cancelled. Past records are kept.", n=cancelled), "success")
    return redirect(url_for("cohorts.corporate_cohort_detail", cohort_id=cohort_id))


def _qualifications(institution_id: int | None) -> list[Qualification]:
    return reads.qualifications(db.session, institution_id, current_language())


from . import public  # noqa: E402,F401  (the institution's cohort list and page: routes on this blueprint)
