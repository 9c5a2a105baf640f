"""Staff accounts, password resets, learners, learner imports: screens and JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core import jobs
from core.access.auth import login_session_key
from core.access.scoping import can
from core.cohorts import reads as cohort_reads
from core.cohorts.service import organizations_query
from core.errors import ValidationError
from core.fields import PageQuery
from core.imports import learners as learner_imports
from core.imports import reads as import_reads
from core.imports import service as imports
from core.imports.jobs import JOB_KINDS
from core.institutions.phones import institution_country
from core.institutions.service import institutions_query
from core.models import Cohort, CohortType, Role, TraineeImport
from core.people import learners, resets, staff
from core.people import reads as learner_reads
from core.people.commands import (
    ROLES_AN_ADMIN_GIVES,
    ChangePassword,
    CreateLearner,
    CreateUser,
    LearnerQuery,
    RequestPasswordReset,
    ResetPassword,
    UpdateLearner,
    UpdateUser,
    UserQuery,
)
from core.personal_data import access_log, corrections

from ..auth import public, requires, signed_in, user
from ..contract import Accepted, ErrorEnvelope, Page, contract, responds
from ..downloads import stream_csv
from ..extensions import db
from ..forms import form_command
from ..i18n import current_language, row_problem, translated_message
from ..pagination import query_page
from .schemas import (
    LearnerCsvUpload,
    LearnerImportOut,
    LearnerImportRowOut,
    LearnerOut,
    UserOut,
    present_import_row,
    present_learner,
    present_learner_import,
    present_user,
)

bp = Blueprint("people", __name__)
IN_PROGRESS = {"UPLOADED", "VALIDATING", "COMMITTING"}


def _user_page(query: UserQuery) -> dict[str, Any]:
    page = query_page(staff.users_query(user(), query, current_language()), query, lambda u: u)
    cohorts = staff.assigned_cohorts(db.session, [u.id for u in page["items"]])
    page["items"] = [present_user(u, cohorts[u.id]) for u in page["items"]]
    return page


def _present(u: Any) -> dict[str, Any]:
    return present_user(u, staff.assigned_cohorts(db.session, [u.id])[u.id])


# ---------------------------------------------------------------- API: staff


@bp.get("/api/users")
@requires("users.manage")
@contract(resp=responds(HTTP_200=Page[UserOut]))
def api_user_list(query: UserQuery) -> Any:
    """Staff accounts of the institution."""
    return _user_page(query)


@bp.post("/api/users")
@requires("users.manage")
@contract(resp=responds(HTTP_201=UserOut, HTTP_409=ErrorEnvelope))
def api_user_create(json: CreateUser) -> Any:
    """Create a staff account."""
    return _present(staff.create_staff(db.session, user(), json)), 201


@bp.get("/api/users/<int:user_id>")
@requires("users.manage")
@contract(resp=responds(HTTP_200=UserOut))
def api_user_detail(user_id: int) -> Any:
    """One staff account (the read is in that person's access log)."""
    found = staff.visible_user(db.session, user(), user_id)
    access_log.record_view(db.session, user(), "users", found.id, found.institution_id)
    return _present(found)


@bp.patch("/api/users/<int:user_id>")
@requires("users.manage")
@contract(resp=responds(HTTP_200=UserOut))
def api_user_update(user_id: int, json: UpdateUser) -> Any:
    """Change a staff account (fields left out keep their value)."""
    return _present(staff.update_staff(db.session, user(), user_id, json))


@bp.post("/api/users/<int:user_id>/password-reset")
@requires("users.manage")
@contract(resp=responds(HTTP_202=Accepted))
def api_user_password_reset(user_id: int) -> Any:
    """Mail the user a single-use link to choose a new password."""
    target = staff.visible_user(db.session, user(), user_id)
    resets.request_reset(db.session, target.email)
    return {"id": target.id, "status": "SENT", "status_url": url_for("people.api_user_detail", user_id=target.id)}, 202


# ---------------------------------------------------------------- API: learners


@bp.get("/api/learners")
@requires("learners.view")
@contract(resp=responds(HTTP_200=Page[LearnerOut]))
def api_learner_list(query: LearnerQuery) -> Any:
    """Learners of the institution (search with `q`)."""
    return query_page(learners.learners_query(user(), query, current_language(), _country()), query,
                      present_learner)


@bp.post("/api/learners")
@requires("learners.manage")
@contract(resp=responds(HTTP_201=LearnerOut, HTTP_409=ErrorEnvelope))
def api_learner_create(json: CreateLearner) -> Any:
    """Add a learner."""
    return present_learner(learners.create_learner(db.session, user(), json)), 201


@bp.get("/api/learners/<int:learner_id>")
@requires("learners.view")
@contract(resp=responds(HTTP_200=LearnerOut))
def api_learner_detail(learner_id: int) -> Any:
    """One learner (the read is in the learner's access log)."""
    learner = learners.visible_learner(db.session, user(), learner_id)
    access_log.record_view(db.session, user(), "learners", learner.id, learner.institution_id)
    return present_learner(learner)


@bp.patch("/api/learners/<int:learner_id>")
@requires("learners.manage")
@contract(resp=responds(HTTP_200=LearnerOut, HTTP_409=ErrorEnvelope))
def api_learner_update(learner_id: int, json: UpdateLearner) -> Any:
    """Change a learner's details (fields left out keep their value)."""
    return present_learner(learners.update_learner(db.session, user(), learner_id, json))


# ---------------------------------------------------------------- API: learner imports


def _institutions() -> list[int] | None:
    return None if user().role == Role.SUPER_ADMIN else [user().institution_id or -1]


def _job(import_id: int) -> jobs.JobView | None:
    """Where the import's validation or commit stands on the workers (queued, running, failed)."""
    return jobs.describe(db.session, JOB_KINDS, import_id)


def _learner_import(import_id: int, *, for_update: bool = False) -> TraineeImport:
    return learner_imports.learner_import_for(db.session, _institutions(), import_id, for_update=for_update)


def _upload() -> TraineeImport:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(_("Choose a CSV file to upload (form field “file”)."), code="file_missing")
    raw_cohort = (request.form.get("cohort_id") or "").strip()
    if raw_cohort and not raw_cohort.isdecimal():
        raise ValidationError(_("cohort_id must be a cohort's id."), code="invalid_cohort")
    institution_id = user().institution_id
    if institution_id is None:
        raise ValidationError(_("Your account belongs to no institution."), code="no_institution")
    return learner_imports.create_learner_import(
        db.session, current_app.extensions["storage"], institution_id=institution_id,
        cohort_id=int(raw_cohort) if raw_cohort else None, uploader=user(), stream=upload.stream,
        filename=upload.filename, max_bytes=current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024)


def _accepted(imp: TraineeImport) -> tuple[dict[str, Any], int]:
    return {"id": imp.id, "status": imp.status.value,
            "status_url": url_for("people.api_learner_import_detail", import_id=imp.id)}, 202


@bp.post("/api/learner-imports")
@requires("learners.manage")
@contract(form=LearnerCsvUpload, resp=responds(HTTP_202=Accepted, HTTP_413=ErrorEnvelope))
def api_learner_import_create() -> Any:
    """Multipart: `file` (CSV: full_name, id_number, email, phone, date_of_birth) and optional `cohort_id`
    (a public cohort to enrol every row into). Validated by a worker; poll `status_url`."""
    return _accepted(_upload())


@bp.get("/api/learner-imports/<int:import_id>")
@requires("learners.view")
@contract(resp=responds(HTTP_200=LearnerImportOut))
def api_learner_import_detail(import_id: int) -> Any:
    """A learner import: status, progress, counts and its background job."""
    return present_learner_import(_learner_import(import_id), _job(import_id))


@bp.get("/api/learner-imports/<int:import_id>/rows")
@requires("learners.view")
@contract(resp=responds(HTTP_200=Page[LearnerImportRowOut]))
def api_learner_import_rows(import_id: int, query: PageQuery) -> Any:
    """A learner import's rows as checked: values, and errors per row."""
    imp = _learner_import(import_id)
    return query_page(import_reads.import_rows(imp.id), query, present_import_row)


@bp.get("/api/learner-imports/<int:import_id>/errors.csv")
@requires("learners.view")
@contract(resp=responds(HTTP_200=None))
def api_learner_import_errors(import_id: int) -> Any:
    """Every row error of a learner import as CSV, formulas neutralized."""
    imp = _learner_import(import_id)
    stem = imp.original_filename.rsplit(".", 1)[0][:80] or "import"
    return stream_csv(imports.error_report_lines(db.session, imp.id, gettext=_, describe=row_problem),
                      f"{stem}-errors.csv")


@bp.post("/api/learner-imports/<int:import_id>/commit")
@requires("learners.manage")
@contract(resp=responds(HTTP_202=Accepted, HTTP_409=ErrorEnvelope))
def api_learner_import_commit(import_id: int) -> Any:
    """Add a validated learner import's valid rows, in the background."""
    imp = _learner_import(import_id, for_update=True)
    return _accepted(learner_imports.request_learner_commit(db.session, imp, user()))


@bp.post("/api/learner-imports/<int:import_id>/cancel")
@requires("learners.manage")
@contract(resp=responds(HTTP_200=LearnerImportOut, HTTP_409=ErrorEnvelope))
def api_learner_import_cancel(import_id: int) -> Any:
    """Cancel a learner import that has not been committed."""
    imp = _learner_import(import_id, for_update=True)
    return present_learner_import(imports.cancel(db.session, imp, user()))


# ---------------------------------------------------------------- screens: staff


def _page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.get("/admin/users")
@requires("users.manage")
def user_list() -> Any:
    query = UserQuery(q=request.args.get("q", "").strip()[:200], page=_page_arg())
    page = query_page(staff.users_query(user(), query, current_language()), query, lambda u: u)
    institutions = (db.session.scalars(institutions_query(language=current_language())).all()
                    if user().role == Role.SUPER_ADMIN else [])
    organizations = db.session.scalars(organizations_query(user(), language=current_language())).all()
    return render_template("people/users.html", page=page, q=query.q, roles=_roles(), institutions=institutions,
                           organizations=organizations,
                           chosen_institution=request.args.get("institution", type=int))


def _roles() -> list[Role]:
    """The roles the signed-in user may give, in the order of the Role enum (a learner's account comes from an
    invitation, never from the staff form)."""
    return [r for r in Role if r != Role.LEARNER and (user().role == Role.SUPER_ADMIN or r in ROLES_AN_ADMIN_GIVES)]


@bp.post("/admin/users")
@requires("users.manage")
def user_create() -> Any:
    # The organization field is only for organization members (the script hides it otherwise; without the
    # script it is sent whatever the role, and means nothing for other roles).
    organization = request.form.get("organization_id") if request.form.get("role") == "org_member" else None
    created = staff.create_staff(db.session, user(), form_command(CreateUser, organization_id=organization))
    flash(_("%(name)s can now sign in.", name=created.full_name) if created.password_hash else
          _("%(name)s was sent a link to choose a password.", name=created.full_name), "success")
    return redirect(url_for("people.user_edit", user_id=created.id))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def user_edit(user_id: int) -> Any:
    if request.method == "POST":
        staff.update_staff(db.session, user(), user_id, form_command(UpdateUser))
        flash(_("Saved."), "success")
        return redirect(url_for("people.user_edit", user_id=user_id))
    found = staff.visible_user(db.session, user(), user_id)
    access_log.record_view(db.session, user(), "users", found.id, found.institution_id)
    cohorts = cohort_reads.active_cohorts(db.session, found.institution_id, current_language())
    return render_template("people/user_edit.html", person=found, cohorts=cohorts, roles=_roles(),
                           assigned=set(staff.assigned_cohorts(db.session, [found.id])[found.id]))


@bp.post("/admin/users/<int:user_id>/password-reset")
@requires("users.manage")
def user_password_reset(user_id: int) -> Any:
    target = staff.visible_user(db.session, user(), user_id)
    resets.request_reset(db.session, target.email)
    flash(_("A password link was sent to %(email)s.", email=target.email), "success")
    return redirect(url_for("people.user_edit", user_id=user_id))


# ---------------------------------------------------------------- screens: passwords


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def password_forgot() -> Any:
    if request.method == "POST":
        command = form_command(RequestPasswordReset)
        resets.request_reset(db.session, command.email)
        # The same answer whether or not the address has an account.
        flash(_("If an account uses this address, a link to choose a new password is on its way."), "info")
        return redirect(url_for("account.login"))
    return render_template("people/password_forgot.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def password_reset(token: str) -> Any:
    secret, max_age = current_app.config["SECRET_KEY"], current_app.config["PASSWORD_RESET_MAX_AGE"]
    if request.method == "POST":
        command = form_command(ResetPassword, token=token)
        resets.reset_password(db.session, secret, command.token, command.password, max_age)
        flash(_("Your password is set. Sign in with it."), "success")
        return redirect(url_for("account.login"))
    try:
        person = resets.user_for_token(db.session, secret, token, max_age)
    except ValidationError as exc:
        return render_template("people/password_reset.html", problem=translated_message(exc), person=None), 410
    return render_template("people/password_reset.html", problem=None, person=person)


@bp.post("/profile/password")
@signed_in
def password_change() -> Any:
    command = form_command(ChangePassword)
    resets.change_password(db.session, user(), command.current_password, command.new_password,
                           keep_session=login_session_key(user().login_session_id))
    flash(_("Password changed. Your other signed-in browsers were signed out."), "success")
    return redirect(url_for("account.profile"))


# ---------------------------------------------------------------- screens: learners


@bp.get("/admin/learners")
@requires("learners.view")
def learner_list() -> Any:
    query = LearnerQuery(q=request.args.get("q", "").strip()[:200], page=_page_arg())
    page = query_page(learners.learners_query(user(), query, current_language(), _country()), query,
                      lambda learner: learner)
    return render_template("people/learners.html", page=page, q=query.q)


@bp.post("/admin/learners")
@requires("learners.manage")
def learner_create() -> Any:
    learner = learners.create_learner(db.session, user(), form_command(CreateLearner))
    flash(_("Learner %(name)s added.", name=learner.full_name), "success")
    return redirect(url_for("people.learner_list", q=learner.full_name))


@bp.get("/admin/learners/<int:learner_id>")
@requires("learners.view")
def learner_edit(learner_id: int) -> Any:
    """The learner's page: details, enrolments across cohorts with each rate, attendance history, documents."""
    learner = learners.visible_learner(db.session, user(), learner_id)
    access_log.record_view(db.session, user(), "learners", learner.id, learner.institution_id)
    may_export = can(db.session, user(), "personal_data.export")
    return render_template("people/learner_edit.html", learner=learner,
                           corrections=corrections.history(db.session, "learners", learner.id) if may_export else [],
                           may_export=may_export, may_erase=can(db.session, user(), "personal_data.erase"),
                           enrolments=learner_reads.learner_enrolments(db.session, user(), learner),
                           history=learner_reads.attendance_history(db.session, user(), learner),
                           documents=learner_reads.learner_documents(db.session, user(), learner),
                           history_limit=learner_reads.HISTORY_LIMIT)


def _country() -> str:
    return institution_country(db.session, user().institution_id)


@bp.post("/admin/learners/<int:learner_id>")
@requires("learners.manage")
def learner_update(learner_id: int) -> Any:
    learners.update_learner(db.session, user(), learner_id, form_command(UpdateLearner))
    flash(_("Saved."), "success")
    return redirect(url_for("people.learner_edit", learner_id=learner_id))


@bp.route("/admin/learners/import", methods=["GET", "POST"])
@requires("learners.manage")
def learner_import_form() -> Any:
    if request.method == "POST":
        imp = _upload()
        flash(_("“%(name)s” uploaded; checking it now.", name=imp.original_filename), "success")
        return redirect(url_for("people.learner_import_status", import_id=imp.id))
    cohorts = cohort_reads.active_cohorts(db.session, user().institution_id, current_language(), CohortType.PUBLIC)
    return render_template("people/learner_import.html", cohorts=cohorts, columns=learner_imports.COLUMNS,
                           chosen=request.args.get("cohort", type=int), max_mb=current_app.config["MAX_UPLOAD_MB"])


@bp.get("/admin/learner-imports/<int:import_id>")
@requires("learners.view")
def learner_import_status(import_id: int) -> Any:
    imp = _learner_import(import_id)
    busy = imp.status.value in IN_PROGRESS
    cohort = db.session.get(Cohort, imp.cohort_id) if imp.cohort_id else None
    return render_template("people/learner_import_status.html", imp=imp, cohort=cohort, in_progress=busy,
                           job=_job(imp.id),
                           preview=[] if busy else imports.preview_rows(db.session, imp.id),
                           reasons=learner_imports.REASONS, preview_limit=imports.PREVIEW_LIMIT)


@bp.post("/admin/learner-imports/<int:import_id>/commit")
@requires("learners.manage")
def learner_import_commit(import_id: int) -> Any:
    learner_imports.request_learner_commit(db.session, _learner_import(import_id, for_update=True), user())
    flash(_("Adding the valid rows…"), "info")
    return redirect(url_for("people.learner_import_status", import_id=import_id))


@bp.post("/admin/learner-imports/<int:import_id>/cancel")
@requires("learners.manage")
def learner_import_cancel(import_id: int) -> Any:
    imports.cancel(db.session, _learner_import(import_id, for_update=True), user())
    flash(_("Import cancelled. The file is kept for the record."), "success")
    return redirect(url_for("people.learner_import_status", import_id=import_id))
