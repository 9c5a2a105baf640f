"""Trainee CSV imports (upload, status, preview, error report, commit, cancel) and the trainee list.

The upload view streams the file to private storage and answers at once; validation and commit run
in workers (tasks.imports), started only after the transaction that records the import commits.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from core import jobs
from core.access.scoping import can, visible_cohort
from core.cohorts.service import corporate_cohort, trainees_query
from core.errors import NotFound, ValidationError
from core.imports import commit, service
from core.imports.jobs import JOB_KINDS, retry_import
from core.imports.rules import COLUMNS, reason_sentence
from core.models import Cohort, CorporateTrainee, ImportStatus, TraineeImport, TraineeImportRow, User

from ..auth import requires, user
from ..contract import Accepted, ErrorEnvelope, contract, responds
from ..downloads import stream_csv
from ..extensions import db
from ..pagination import paginate

bp = Blueprint("imports", __name__)

IN_PROGRESS = {ImportStatus.UPLOADED.value, ImportStatus.VALIDATING.value, ImportStatus.COMMITTING.value}


# ---------------------------------------------------------------- helpers


def _cohort(cohort_id: int, permission: str) -> Cohort:
    return corporate_cohort(db.session, visible_cohort(db.session, user(), cohort_id, permission))


def _import(import_id: int, permission: str) -> tuple[TraineeImport, Cohort]:
    imp = db.session.get(TraineeImport, import_id)
    if imp is None:
        raise NotFound("No such import.")
    try:
        cohort = _cohort(imp.cohort_id, permission)
    except NotFound:
        raise NotFound("No such import.") from None
    return imp, cohort


def import_json(imp: TraineeImport, uploader: User | None = None, job: jobs.JobView | None = None) -> dict[str, Any]:
    return {
        "id": imp.id, "cohort_id": imp.cohort_id, "status": imp.status.value,
        "original_filename": imp.original_filename, "size_bytes": imp.size_bytes, "sha256": imp.sha256,
        "uploaded_by": {"id": uploader.id, "name": uploader.full_name} if uploader else None,
        "created_at": _iso(imp.created_at), "started_at": _iso(imp.started_at), "finished_at": _iso(imp.finished_at),
        "committed_at": _iso(imp.committed_at),
        "progress": {"rows_done": imp.rows_done, "rows_total": imp.rows_total},
        "counts": {"valid": imp.valid_count, "invalid": imp.invalid_count, "by_reason": imp.errors_by_reason or {},
                   "possible_duplicates": imp.possible_duplicate_count},
        "reasons": [{"code": code, "count": n, "message": reason_sentence(code)}
                    for code, n in sorted((imp.errors_by_reason or {}).items()) if code != "file"],
        "inserted_count": imp.inserted_count,
        "error_message": imp.error_message,
        "job": job.as_json() if job else None,
        "links": {
            "self": url_for("imports.api_import_detail", import_id=imp.id),
            "page": url_for("imports.import_status", import_id=imp.id),
            "rows": url_for("imports.api_import_rows", import_id=imp.id),
            "errors_csv": url_for("imports.api_import_errors_csv", import_id=imp.id),
            "commit": url_for("imports.api_import_commit", import_id=imp.id),
            "cancel": url_for("imports.api_import_cancel", import_id=imp.id),
            "retry": url_for("imports.api_import_retry", import_id=imp.id),
        },
    }


def row_json(row: TraineeImportRow) -> dict[str, Any]:
    return {"row": row.row_number, "ok": row.ok, "full_name": row.full_name, "phone_e164": row.phone_e164,
            "email": row.email, "employee_code": row.employee_code, "errors": (row.errors or {}).get("errors", []),
            "warnings": (row.errors or {}).get("warnings", [])}


def trainee_json(t: CorporateTrainee) -> dict[str, Any]:
    return {"id": t.id, "full_name": t.full_name, "phone_e164": t.phone_e164, "email": t.email,
            "job_title": t.job_title, "employee_code": t.employee_code, "department": t.department,
            "active": t.active, "import_id": t.import_id}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _upload(cohort: Cohort) -> TraineeImport:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("Choose a CSV file to upload (form field “file”).", code="file_missing")
    return service.create_import(
        db.session, current_app.extensions["storage"], cohort=cohort, uploader=user(), stream=upload.stream,
        filename=upload.filename, max_bytes=current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
    )


def _job(imp: TraineeImport) -> jobs.JobView | None:
    return jobs.describe(db.session, JOB_KINDS, imp.id)


def _commit_choices() -> dict[str, bool]:
    """confirm_duplicate_file / include_possible_duplicates, from a JSON body or a form."""
    body = request.get_json(silent=True) if request.is_json else None
    if request.is_json and not isinstance(body, dict | None):
        raise ValidationError("Send a JSON object.", code="invalid_body")
    source: Any = body or request.form
    choices = {}
    for name in ("confirm_duplicate_file", "include_possible_duplicates"):
        value = source.get(name, False)
        if isinstance(value, str):
            value = value.strip().lower() in ("1", "true", "yes", "on")
        if not isinstance(value, bool):
            raise ValidationError(f"{name} must be true or false.", code="invalid_field", details={"field": name})
        choices[name] = value
    return choices


def _uploaders(imports: list[TraineeImport]) -> dict[int, User]:
    ids = {i.uploaded_by_id for i in imports if i.uploaded_by_id}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _ok_filter() -> bool | None:
    raw = request.args.get("ok", "").strip().lower()
    if raw in ("", "all"):
        return None
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ValidationError("ok must be true or false.", code="invalid_filter")


# ---------------------------------------------------------------- API


@bp.post("/api/corporate-cohorts/<int:cohort_id>/trainee-imports")
@requires("corporate_trainees.import")
def api_import_create(cohort_id: int) -> Any:
    imp = _upload(_cohort(cohort_id, "corporate_trainees.import"))
    return jsonify(id=imp.id, status=imp.status.value,
                   status_url=url_for("imports.api_import_detail", import_id=imp.id)), 202


@bp.get("/api/corporate-cohorts/<int:cohort_id>/trainee-imports")
@requires("corporate_trainees.view")
def api_import_list(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    stmt = (select(TraineeImport).where(TraineeImport.cohort_id == cohort.id)
            .order_by(TraineeImport.created_at.desc(), TraineeImport.id.desc()))
    page = paginate(stmt, lambda i: i)
    uploaders = _uploaders(page["items"])
    page["items"] = [import_json(i, uploaders.get(i.uploaded_by_id or 0)) for i in page["items"]]
    return jsonify(page)


@bp.get("/api/trainee-imports/<int:import_id>")
@requires("corporate_trainees.view")
def api_import_detail(import_id: int) -> Any:
    imp, _ = _import(import_id, "corporate_trainees.view")
    uploader = db.session.get(User, imp.uploaded_by_id) if imp.uploaded_by_id else None
    return jsonify(import_json(imp, uploader, _job(imp)))


@bp.get("/api/trainee-imports/<int:import_id>/rows")
@requires("corporate_trainees.view")
def api_import_rows(import_id: int) -> Any:
    imp, _ = _import(import_id, "corporate_trainees.view")
    stmt = select(TraineeImportRow).where(TraineeImportRow.import_id == imp.id)
    ok = _ok_filter()
    if ok is not None:
        stmt = stmt.where(TraineeImportRow.ok.is_(ok))
    return jsonify(paginate(stmt.order_by(TraineeImportRow.row_number), row_json))


@bp.get("/api/trainee-imports/<int:import_id>/errors.csv")
@requires("corporate_trainees.view")
def api_import_errors_csv(import_id: int) -> Any:
    imp, _ = _import(import_id, "corporate_trainees.view")
    stem = imp.original_filename.rsplit(".", 1)[0][:80] or "import"
    return stream_csv(service.error_report_lines(db.session, imp.id), f"{stem}-errors.csv")


@bp.post("/api/trainee-imports/<int:import_id>/commit")
@requires("corporate_trainees.import")
def api_import_commit(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    imp = commit.request_commit(db.session, imp.id, user(), cohort=cohort, **_commit_choices())
    return jsonify(id=imp.id, status=imp.status.value,
                   status_url=url_for("imports.api_import_detail", import_id=imp.id)), 202


@bp.post("/api/trainee-imports/<int:import_id>/retry")
@requires("corporate_trainees.import")
@contract(resp=responds(HTTP_202=Accepted, HTTP_409=ErrorEnvelope))
def api_import_retry(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    imp = retry_import(db.session, imp.id, user(), cohort=cohort)
    return jsonify(id=imp.id, status=imp.status.value,
                   status_url=url_for("imports.api_import_detail", import_id=imp.id)), 202


@bp.post("/api/trainee-imports/<int:import_id>/cancel")
@requires("corporate_trainees.import")
def api_import_cancel(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    imp = service.cancel_import(db.session, imp.id, user(), cohort=cohort)
    return jsonify(import_json(imp))


@bp.get("/api/corporate-cohorts/<int:cohort_id>/trainees")
@requires("corporate_trainees.view")
def api_trainee_list(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    return jsonify(paginate(trainees_query(cohort.id, request.args.get("q", "").strip()), trainee_json))


# ---------------------------------------------------------------- screens


@bp.get("/admin/corporate-cohorts/<int:cohort_id>/trainees/import")
@requires("corporate_trainees.import")
def import_form(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.import")
    return render_template("imports/upload.html", cohort=cohort, columns=COLUMNS,
                           max_mb=current_app.config["MAX_UPLOAD_MB"])


@bp.post("/admin/corporate-cohorts/<int:cohort_id>/trainees/import")
@requires("corporate_trainees.import")
def import_upload(cohort_id: int) -> Any:
    imp = _upload(_cohort(cohort_id, "corporate_trainees.import"))
    flash(f"“{imp.original_filename}” uploaded; checking it now.", "success")
    return redirect(url_for("imports.import_status", import_id=imp.id))


@bp.get("/admin/trainee-imports/<int:import_id>")
@requires("corporate_trainees.view")
def import_status(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.view")
    preview = service.preview_rows(db.session, imp.id) if imp.status.value not in IN_PROGRESS else []
    return render_template("imports/status.html", imp=imp, cohort=cohort, preview=preview, job=_job(imp),
                           reason_sentence=reason_sentence,
                           duplicate_of=commit.same_file_committed(db.session, imp)
                           if imp.status == ImportStatus.VALIDATED else None,
                           in_progress=imp.status.value in IN_PROGRESS,
                           can_import=can(db.session, user(), "corporate_trainees.import"),
                           uploader=db.session.get(User, imp.uploaded_by_id) if imp.uploaded_by_id else None,
                           preview_limit=service.PREVIEW_LIMIT)


@bp.post("/admin/trainee-imports/<int:import_id>/commit")
@requires("corporate_trainees.import")
def import_commit(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    commit.request_commit(db.session, imp.id, user(), cohort=cohort, **_commit_choices())
    flash("Adding the valid rows to the cohort…", "info")
    return redirect(url_for("imports.import_status", import_id=import_id))


@bp.post("/admin/trainee-imports/<int:import_id>/retry")
@requires("corporate_trainees.import")
def import_retry(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    retry_import(db.session, imp.id, user(), cohort=cohort)
    flash("Checking the file again.", "info")
    return redirect(url_for("imports.import_status", import_id=import_id))


@bp.post("/admin/trainee-imports/<int:import_id>/cancel")
@requires("corporate_trainees.import")
def import_cancel(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    service.cancel_import(db.session, imp.id, user(), cohort=cohort)
    flash("Import cancelled. The file is kept for the record.", "success")
    return redirect(url_for("imports.import_status", import_id=import_id))


@bp.get("/admin/corporate-cohorts/<int:cohort_id>/imports")
@requires("corporate_trainees.view")
def import_history(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    stmt = (select(TraineeImport).where(TraineeImport.cohort_id == cohort.id)
            .order_by(TraineeImport.created_at.desc(), TraineeImport.id.desc()))
    page = paginate(stmt, lambda i: i, default_per_page=25)
    return render_template("imports/history.html", cohort=cohort, page=page, uploaders=_uploaders(page["items"]))


@bp.get("/admin/corporate-cohorts/<int:cohort_id>/trainees")
@requires("corporate_trainees.view")
def trainee_list(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    q = request.args.get("q", "").strip()
    page = paginate(trainees_query(cohort.id, q), lambda t: t)
    return render_template("imports/trainees.html", cohort=cohort, page=page, q=q)
