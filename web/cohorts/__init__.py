"""Organizations, corporate agreements and corporate cohorts: admin screens and JSON API (issue 3).

Views translate the request, call one service in core.cohorts.service, and render or answer JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from core.access.scoping import can, cohort_filter, visible_cohort
from core.attendance.locking import lock_states
from core.attendance.roster import roster_sizes
from core.cohorts import service
from core.errors import ValidationError
from core.models import (
    AgreementStatus,
    ClassSession,
    Cohort,
    CohortStatus,
    CohortType,
    CorporateAgreement,
    ImportStatus,
    Organization,
    Qualification,
    SessionStatus,
    TraineeImport,
)

from ..auth import requires, user
from ..extensions import db
from ..pagination import paginate

bp = Blueprint("cohorts", __name__)


# ---------------------------------------------------------------- serializers


def organization_json(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "registration_number": org.registration_number,
            "contact_email": org.contact_email, "contact_phone": org.contact_phone,
            "agreements_url": url_for("cohorts.api_agreement_list", organization_id=org.id)}


def agreement_json(agreement: CorporateAgreement, organization_name: str | None = None) -> dict[str, Any]:
    return {"id": agreement.id, "organization_id": agreement.organization_id, "organization_name": organization_name,
            "reference": agreement.reference, "title": agreement.title, "status": agreement.status.value,
            "start_date": _iso(agreement.start_date), "end_date": _iso(agreement.end_date),
            "can_spawn_cohorts": agreement.status == AgreementStatus.ACTIVE}


def cohort_json(c: Cohort, trainees: int | None = None, sessions: int | None = None) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "cohort_type": c.cohort_type.value, "status": c.status.value,
            "organization_id": c.organization_id, "agreement_id": c.agreement_id,
            "qualification_id": c.qualification_id, "start_date": _iso(c.start_date), "end_date": _iso(c.end_date),
            "proposal_reference": c.proposal_reference, "request_reference": c.request_reference,
            "contact_name": c.contact_name, "contact_phone": c.contact_phone, "notes": c.notes,
            "expected_trainee_count": c.expected_trainee_count, "trainee_count": trainees,
            "session_count": sessions, "url": url_for("cohorts.corporate_cohort_detail", cohort_id=c.id)}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValidationError("Send a JSON object.", code="bad_body")
    return body


def _session_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(
        select(ClassSession.cohort_id, func.count()).where(
            ClassSession.cohort_id.in_(ids), ClassSession.status != SessionStatus.CANCELLED
        ).group_by(ClassSession.cohort_id)
    ).all())


def _corporate(cohort_id: int, permission: str) -> Cohort:
    return service.corporate_cohort(db.session, visible_cohort(db.session, user(), cohort_id, permission))


def _cohorts_query() -> Any:
    q = request.args.get("q", "").strip()
    stmt = (select(Cohort).outerjoin(Organization, Organization.id == Cohort.organization_id)
            .where(cohort_filter(user()), Cohort.cohort_type == CohortType.CORPORATE))
    if q:
        like = service.like_pattern(q)
        stmt = stmt.where(or_(Cohort.name.ilike(like, escape="\\"), Organization.name.ilike(like, escape="\\")))
    status = request.args.get("status", "").strip().upper()
    if status:
        try:
            stmt = stmt.where(Cohort.status == CohortStatus(status))
        except ValueError:
            raise ValidationError("Unknown status.", code="invalid_status") from None
    return stmt.order_by(Cohort.start_date.desc().nulls_last(), Cohort.id.desc())


# ---------------------------------------------------------------- organizations: API


@bp.get("/api/organizations")
@requires("organizations.view")
def api_organization_list() -> Any:
    return jsonify(paginate(service.organizations_query(user(), request.args.get("q", "").strip()),
                            organization_json))


@bp.post("/api/organizations")
@requires("organizations.manage")
def api_organization_create() -> Any:
    return jsonify(organization_json(service.create_organization(db.session, user(), _json_body()))), 201


@bp.get("/api/organizations/<int:organization_id>")
@requires("organizations.view")
def api_organization_detail(organization_id: int) -> Any:
    return jsonify(organization_json(service.visible_organization(db.session, user(), organization_id)))


@bp.get("/api/organizations/<int:organization_id>/agreements")
@requires("organizations.view")
def api_agreement_list(organization_id: int) -> Any:
    service.visible_organization(db.session, user(), organization_id)
    stmt = service.agreements_query(user(), organization_id=organization_id, status=request.args.get("status"))
    return jsonify(paginate(stmt, lambda r: agreement_json(r[0], r[1]), scalars=False))


@bp.post("/api/organizations/<int:organization_id>/agreements")
@requires("organizations.manage")
def api_agreement_create(organization_id: int) -> Any:
    agreement = service.create_agreement(db.session, user(), organization_id, _json_body())
    return jsonify(agreement_json(agreement)), 201


@bp.get("/api/corporate-agreements")
@requires("organizations.view")
def api_agreements() -> Any:
    stmt = service.agreements_query(user(), status=request.args.get("status"))
    return jsonify(paginate(stmt, lambda r: agreement_json(r[0], r[1]), scalars=False))


@bp.post("/api/corporate-agreements/<int:agreement_id>/status")
@requires("organizations.manage")
def api_agreement_status(agreement_id: int) -> Any:
    agreement = service.set_agreement_status(db.session, user(), agreement_id, _json_body().get("status"))
    return jsonify(agreement_json(agreement))


@bp.post("/api/corporate-agreements/<int:agreement_id>/cohorts")
@requires("corporate_cohorts.create")
def api_corporate_cohort_create(agreement_id: int) -> Any:
    cohort = service.create_corporate_cohort(db.session, user(), agreement_id, _json_body())
    return jsonify(cohort_json(cohort, 0, 0)), 201


# ---------------------------------------------------------------- corporate cohorts: API


@bp.get("/api/corporate-cohorts")
@requires("corporate_cohorts.view")
def api_corporate_cohort_list() -> Any:
    page = paginate(_cohorts_query(), lambda c: c)
    ids = [c.id for c in page["items"]]
    sizes, sessions = roster_sizes(db.session, ids), _session_counts(ids)
    page["items"] = [cohort_json(c, sizes.get(c.id, 0), sessions.get(c.id, 0)) for c in page["items"]]
    return jsonify(page)


@bp.get("/api/corporate-cohorts/<int:cohort_id>")
@requires("corporate_cohorts.view")
def api_corporate_cohort_detail(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.view")
    return jsonify(cohort_json(cohort, roster_sizes(db.session, [cohort.id]).get(cohort.id, 0),
                               _session_counts([cohort.id]).get(cohort.id, 0)))


@bp.patch("/api/corporate-cohorts/<int:cohort_id>")
@requires("corporate_cohorts.update")
def api_corporate_cohort_update(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.update")
    cohort = service.update_corporate_cohort(db.session, user(), cohort, _json_body(), partial=True)
    return jsonify(cohort_json(cohort))


@bp.post("/api/corporate-cohorts/<int:cohort_id>/cancel")
@requires("corporate_cohorts.cancel")
def api_corporate_cohort_cancel(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.cancel")
    cancelled = service.cancel_corporate_cohort(db.session, user(), cohort)
    return jsonify({**cohort_json(cohort), "sessions_cancelled": cancelled})


# ---------------------------------------------------------------- screens


@bp.get("/admin/organizations")
@requires("organizations.view")
def organization_list() -> Any:
    page = paginate(service.organizations_query(user(), request.args.get("q", "").strip()), lambda o: o)
    return render_template("cohorts/organizations.html", page=page, q=request.args.get("q", ""))


@bp.post("/admin/organizations")
@requires("organizations.manage")
def organization_create() -> Any:
    org = service.create_organization(db.session, user(), request.form)
    flash(f"Organization “{org.name}” created.", "success")
    return redirect(url_for("cohorts.organization_detail", organization_id=org.id))


@bp.get("/admin/organizations/<int:organization_id>")
@requires("organizations.view")
def organization_detail(organization_id: int) -> Any:
    org = service.visible_organization(db.session, user(), organization_id)
    agreements = [r[0] for r in db.session.execute(service.agreements_query(user(), organization_id=org.id))]
    cohorts = db.session.scalars(select(Cohort).where(Cohort.organization_id == org.id, cohort_filter(user()))
                                 .order_by(Cohort.start_date.desc().nulls_last())).all()
    return render_template("cohorts/organization_detail.html", org=org, agreements=agreements, cohorts=cohorts,
                           statuses=list(AgreementStatus), transitions=service.AGREEMENT_TRANSITIONS)


@bp.post("/admin/organizations/<int:organization_id>/agreements")
@requires("organizations.manage")
def agreement_create(organization_id: int) -> Any:
    agreement = service.create_agreement(db.session, user(), organization_id, request.form)
    flash(f"Agreement {agreement.reference} created ({agreement.status.value}).", "success")
    return redirect(url_for("cohorts.organization_detail", organization_id=organization_id))


@bp.post("/admin/corporate-agreements/<int:agreement_id>/status")
@requires("organizations.manage")
def agreement_status(agreement_id: int) -> Any:
    agreement = service.set_agreement_status(db.session, user(), agreement_id, request.form.get("status"))
    flash(f"Agreement {agreement.reference} is now {agreement.status.value}.", "success")
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
    cohort = service.create_corporate_cohort(db.session, user(), agreement_id, request.form)
    flash(f"Cohort “{cohort.name}” created.", "success")
    return redirect(url_for("cohorts.corporate_cohort_detail", cohort_id=cohort.id))


@bp.get("/admin/corporate-cohorts")
@requires("corporate_cohorts.view")
def corporate_cohort_list() -> Any:
    page = paginate(_cohorts_query(), lambda c: c)
    ids = [c.id for c in page["items"]]
    orgs = dict(db.session.execute(select(Organization.id, Organization.name).where(
        Organization.id.in_({c.organization_id for c in page["items"] if c.organization_id}))).all()) if ids else {}
    active_agreements = []
    if can(db.session, user(), "corporate_cohorts.create"):
        active_agreements = [r[0] for r in db.session.execute(service.agreements_query(user(), status="ACTIVE"))]
    return render_template("cohorts/corporate_cohorts.html", page=page, sizes=roster_sizes(db.session, ids),
                           sessions=_session_counts(ids), orgs=orgs, q=request.args.get("q", ""),
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
        trainees = paginate(service.trainees_query(cohort.id, request.args.get("q", "").strip()), lambda t: t,
                            default_per_page=25)
    imports = db.session.scalars(select(TraineeImport).where(TraineeImport.cohort_id == cohort.id)
                                 .order_by(TraineeImport.created_at.desc()).limit(20)).all()
    sessions = db.session.scalars(select(ClassSession).where(ClassSession.cohort_id == cohort.id)
                                  .order_by(ClassSession.starts_at).limit(200)).all()
    return render_template("cohorts/corporate_cohort_detail.html", cohort=cohort, org=org, agreement=agreement,
                           course=course, trainees=trainees, imports=imports, sessions=sessions,
                           locks=lock_states(db.session, sessions, int(current_app.config["LOCK_GRACE_HOURS"])),
                           trainee_total=roster_sizes(db.session, [cohort.id]).get(cohort.id, 0),
                           q=request.args.get("q", ""), ImportStatus=ImportStatus)


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
    service.update_corporate_cohort(db.session, user(), cohort, request.form)
    flash("Cohort saved.", "success")
    return redirect(url_for("cohorts.corporate_cohort_detail", cohort_id=cohort_id))


@bp.post("/admin/corporate-cohorts/<int:cohort_id>/cancel")
@requires("corporate_cohorts.cancel")
def corporate_cohort_cancel(cohort_id: int) -> Any:
    cohort = _corporate(cohort_id, "corporate_cohorts.cancel")
    cancelled = service.cancel_corporate_cohort(db.session, user(), cohort)
    flash(f"Cohort cancelled; {cancelled} future session(s) cancelled. Past records are kept.", "success")
    return redirect(url_for("cohorts.corporate_cohort_detail", cohort_id=cohort_id))


def _qualifications(institution_id: int | None) -> list[Qualification]:
    return list(db.session.scalars(select(Qualification).where(Qualification.institution_id == institution_id)
                                   .order_by(Qualification.title)))
