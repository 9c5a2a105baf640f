"""Institutions (super_admin) and qualifications (admins): screens and JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.imports.contacts import mobile_example as example_mobile
from core.institutions import service
from core.institutions.commands import (
    LANGUAGES,
    CreateInstitution,
    CreateQualification,
    InstitutionQuery,
    QualificationQuery,
    UpdateInstitution,
    UpdateQualification,
)
from core.institutions.phones import institution_country

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..extensions import db
from ..forms import form_command
from ..i18n import current_language
from ..pagination import query_page
from .schemas import InstitutionOut, QualificationOut, present_institution, present_qualification

bp = Blueprint("institutions", __name__)


@bp.app_context_processor
def _phone_words() -> dict[str, Any]:
    """`mobile_example()` in every template: a mobile of the signed-in user's institution's country, written
    nationally (the placeholder of phone fields; phones are read by that country)."""
    def mobile_example() -> str:
        return example_mobile(institution_country(db.session, getattr(current_user, "institution_id", None)))[0]

    return {"mobile_example": mobile_example}


# ---------------------------------------------------------------- API: institutions


@bp.get("/api/institutions")
@requires("institutions.manage")
@contract(resp=responds(HTTP_200=Page[InstitutionOut]))
def api_institution_list(query: InstitutionQuery) -> Any:
    """Institutions (super admins)."""
    return query_page(service.institutions_query(query.q, current_language()), query, present_institution)


@bp.post("/api/institutions")
@requires("institutions.manage")
@contract(resp=responds(HTTP_201=InstitutionOut, HTTP_409=ErrorEnvelope))
def api_institution_create(json: CreateInstitution) -> Any:
    """Create an institution (super admins)."""
    return present_institution(service.create_institution(db.session, user(), json)), 201


@bp.get("/api/institutions/<int:institution_id>")
@requires("institutions.manage")
@contract(resp=responds(HTTP_200=InstitutionOut))
def api_institution_detail(institution_id: int) -> Any:
    """One institution: time zone, language and accreditation number."""
    return present_institution(service.get_institution(db.session, institution_id))


@bp.patch("/api/institutions/<int:institution_id>")
@requires("corporate_finance.manage")  # the billing fields: the institution's own admin; the rest: institutions.manage
@contract(resp=responds(HTTP_200=InstitutionOut, HTTP_409=ErrorEnvelope))
def api_institution_update(institution_id: int, json: UpdateInstitution) -> Any:
    """Change an institution's settings and billing details (fields left out keep their value). Its own admin may
    change the billing details; the other settings are super admins'."""
    return present_institution(service.update_institution(db.session, user(), institution_id, json))


# ---------------------------------------------------------------- API: qualifications


@bp.get("/api/qualifications")
@requires("cohorts.view")
@contract(resp=responds(HTTP_200=Page[QualificationOut]))
def api_qualification_list(query: QualificationQuery) -> Any:
    """Qualifications (courses) of the institution."""
    return query_page(service.qualifications_query(user(), query.q, query.active, current_language()), query,
                      present_qualification)


@bp.post("/api/qualifications")
@requires("qualifications.manage")
@contract(resp=responds(HTTP_201=QualificationOut, HTTP_409=ErrorEnvelope))
def api_qualification_create(json: CreateQualification) -> Any:
    """Add a qualification (course)."""
    return present_qualification(service.create_qualification(db.session, user(), json)), 201


@bp.get("/api/qualifications/<int:qualification_id>")
@requires("cohorts.view")
@contract(resp=responds(HTTP_200=QualificationOut))
def api_qualification_detail(qualification_id: int) -> Any:
    """One qualification."""
    return present_qualification(service.visible_qualification(db.session, user(), qualification_id))


@bp.patch("/api/qualifications/<int:qualification_id>")
@requires("qualifications.manage")
@contract(resp=responds(HTTP_200=QualificationOut, HTTP_409=ErrorEnvelope))
def api_qualification_update(qualification_id: int, json: UpdateQualification) -> Any:
    """Change a qualification (fields left out keep their value)."""
    return present_qualification(service.update_qualification(db.session, user(), qualification_id, json))


# ---------------------------------------------------------------- screens


def _search() -> str:
    return request.args.get("q", "").strip()[:200]


@bp.get("/admin/institutions")
@requires("institutions.manage")
def institution_list() -> Any:
    query = InstitutionQuery(q=_search(), page=request.args.get("page", 1, type=int) or 1)
    page = query_page(service.institutions_query(query.q, current_language()), query, lambda i: i)
    return render_template("institutions/list.html", page=page, q=query.q, languages=LANGUAGES)


@bp.post("/admin/institutions")
@requires("institutions.manage")
def institution_create() -> Any:
    inst = service.create_institution(db.session, user(), form_command(CreateInstitution))
    flash(_("Institution “%(name)s” created. Next: create its first admin.", name=inst.name), "success")
    return redirect(url_for("institutions.institution_edit", institution_id=inst.id))


@bp.route("/admin/institutions/<int:institution_id>", methods=["GET", "POST"])
@requires("institutions.manage")
def institution_edit(institution_id: int) -> Any:
    if request.method == "POST":
        service.update_institution(db.session, user(), institution_id, form_command(UpdateInstitution))
        flash(_("Institution saved."), "success")
        return redirect(url_for("institutions.institution_edit", institution_id=institution_id))
    inst = service.get_institution(db.session, institution_id)
    return render_template("institutions/edit.html", inst=inst, languages=LANGUAGES)


@bp.get("/admin/qualifications")
@requires("cohorts.view")
def qualification_list() -> Any:
    query = QualificationQuery(q=_search(), page=request.args.get("page", 1, type=int) or 1)
    page = query_page(service.qualifications_query(user(), query.q, language=current_language()), query, lambda q: q)
    return render_template("institutions/qualifications.html", page=page, q=query.q)


@bp.post("/admin/qualifications")
@requires("qualifications.manage")
def qualification_create() -> Any:
    row = service.create_qualification(db.session, user(), form_command(CreateQualification))
    flash(_("Qualification %(code)s created.", code=row.code), "success")
    return redirect(url_for("institutions.qualification_list"))


@bp.route("/admin/qualifications/<int:qualification_id>", methods=["GET", "POST"])
@requires("qualifications.manage")
def qualification_edit(qualification_id: int) -> Any:
    if request.method == "POST":
        service.update_qualification(db.session, user(), qualification_id, form_command(UpdateQualification))
        flash(_("Qualification saved."), "success")
        return redirect(url_for("institutions.qualification_list"))
    row = service.visible_qualification(db.session, user(), qualification_id)
    return render_template("institutions/qualification_edit.html", row=row)
