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
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from core import jobs
from core.access.scoping import can, visible_cohort
from core.cohorts.service import corporate_cohort, trainees_query
from core.errors import NotFound, ValidationError
from core.fields import PageQuery
from core.i18n import N_
from core.imports import commit, service
from core.imports import reads as import_reads
from core.imports.commands import CommitImport, ImportRowsQuery, TraineesQuery
from core.imports.jobs import JOB_KINDS, retry_import
from core.imports.rules import COLUMNS
from core.models import Cohort, ImportStatus, TraineeImport, User

from ..auth import requires, user
from ..contract import Accepted, ErrorEnvelope, Page, contract, responds
from ..downloads import stream_csv
from ..extensions import db
from ..i18n import current_language, row_problem
from ..pagination import paginate
from . import schemas as present
from .schemas import CsvUpload, ImportOut, ImportRowOut, TraineeOut

bp = Blueprint("imports", __name__)

IN_PROGRESS = {ImportStatus.UPLOADED.value, ImportStatus.VALIDATING.value, ImportStatus.COMMITTING.value}


# ---------------------------------------------------------------- helpers


def _cohort(cohort_id: int, permission: str) -> Cohort:
    return corporate_cohort(db.session, visible_cohort(db.session, user(), cohort_id, permission))


def _import(import_id: int, permission: str) -> tuple[TraineeImport, Cohort]:
    imp = db.session.get(TraineeImport, import_id)
    if imp is None:
        raise NotFound(N_("No such import."))
    try:
        cohort = _cohort(imp.cohort_id, permission)
    except NotFound:
        raise NotFound(N_("No such import.")) from None
    return imp, cohort


def _upload(cohort: Cohort) -> TraineeImport:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(N_("Choose a CSV file to upload (form field “file”)."), code="file_missing")
    return service.create_import(
        db.session, current_app.extensions["storage"], cohort=cohort, uploader=user(), stream=upload.stream,
        filename=upload.filename, max_bytes=current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
    )


def _job(imp: TraineeImport) -> jobs.JobView | None:
    return jobs.describe(db.session, JOB_KINDS, imp.id)


def _form_choices() -> CommitImport:
    """The commit screen's checkboxes as the command the API takes as JSON."""
    return CommitImport(**{name: request.form.get(name, "").strip().lower() in ("1", "true", "yes", "on")
                           for name in CommitImport.model_fields})


def _present(imp: TraineeImport, uploader: User | None = None, with_job: bool = False) -> dict[str, Any]:
    return present.trainee_import(imp, uploader, _job(imp) if with_job else None)


def _accepted(imp: TraineeImport) -> tuple[dict[str, Any], int]:
    return {"id": imp.id, "status": imp.status.value,
            "status_url": url_for("imports.api_import_detail", import_id=imp.id)}, 202


def _imports_page(cohort: Cohort, query: PageQuery) -> dict[str, Any]:
    return paginate(import_reads.cohort_imports(cohort.id), lambda i: i, query=query)


def _uploaders(imports: list[TraineeImport]) -> dict[int, User]:
    return import_reads.uploaders(db.session, imports)


# ---------------------------------------------------------------- API


@bp.post("/api/corporate-cohorts/<int:cohort_id>/trainee-imports")
@requires("corporate_trainees.import")
@contract(form=CsvUpload, resp=responds(HTTP_202=Accepted, HTTP_413=ErrorEnvelope))
def api_import_create(cohort_id: int) -> Any:
    """Upload a CSV (multipart field `file`); it is checked in the background: poll `status_url`."""
    return _accepted(_upload(_cohort(cohort_id, "corporate_trainees.import")))


@bp.get("/api/corporate-cohorts/<int:cohort_id>/trainee-imports")
@requires("corporate_trainees.view")
@contract(resp=responds(HTTP_200=Page[ImportOut]))
def api_import_list(cohort_id: int, query: PageQuery) -> Any:
    """A corporate cohort's trainee imports, newest first."""
    page = _imports_page(_cohort(cohort_id, "corporate_trainees.view"), query)
    uploaders = _uploaders(page["items"])
    page["items"] = [_present(i, uploaders.get(i.uploaded_by_id or 0)) for i in page["items"]]
    return page


@bp.get("/api/trainee-imports/<int:import_id>")
@requires("corporate_trainees.view")
@contract(resp=responds(HTTP_200=ImportOut))
def api_import_detail(import_id: int) -> Any:
    """Status, progress, counts and the background job in words; poll it while the import is in progress."""
    imp, _cohort = _import(import_id, "corporate_trainees.view")
    uploader = db.session.get(User, imp.uploaded_by_id) if imp.uploaded_by_id else None
    return _present(imp, uploader, with_job=True)


@bp.get("/api/trainee-imports/<int:import_id>/rows")
@requires("corporate_trainees.view")
@contract(resp=responds(HTTP_200=Page[ImportRowOut]))
def api_import_rows(import_id: int, query: ImportRowsQuery) -> Any:
    """A trainee import's rows as checked: values, and errors per row."""
    imp, _cohort = _import(import_id, "corporate_trainees.view")
    return paginate(import_reads.import_rows(imp.id, query.ok), present.import_row, query=query)


@bp.get("/api/trainee-imports/<int:import_id>/errors.csv")
@requires("corporate_trainees.view")
@contract(resp=responds(HTTP_200=None))
def api_import_errors_csv(import_id: int) -> Any:
    """Every row error as CSV (row, column, value, reason, message), formulas neutralized."""
    imp, _cohort = _import(import_id, "corporate_trainees.view")
    stem = imp.original_filename.rsplit(".", 1)[0][:80] or "import"
    return stream_csv(service.error_report_lines(db.session, imp.id, gettext=_, describe=row_problem),
                      f"{stem}-errors.csv")


@bp.post("/api/trainee-imports/<int:import_id>/commit")
@requires("corporate_trainees.import")
@contract(resp=responds(HTTP_202=Accepted, HTTP_409=ErrorEnvelope))
def api_import_commit(import_id: int, json: CommitImport) -> Any:
    """Add the valid rows to the cohort, in the background (a validated import only)."""
    imp, cohort = _import(import_id, "corporate_trainees.import")
    return _accepted(commit.request_commit(db.session, imp.id, user(), cohort=cohort, **json.model_dump()))


@bp.post("/api/trainee-imports/<int:import_id>/retry")
@requires("corporate_trainees.import")
@contract(resp=responds(HTTP_202=Accepted, HTTP_409=ErrorEnvelope))
def api_import_retry(import_id: int) -> Any:
    """Check a FAILED import's file again."""
    imp, cohort = _import(import_id, "corporate_trainees.import")
    return _accepted(retry_import(db.session, imp.id, user(), cohort=cohort))


@bp.post("/api/trainee-imports/<int:import_id>/cancel")
@requires("corporate_trainees.import")
@contract(resp=responds(HTTP_200=ImportOut, HTTP_409=ErrorEnvelope))
def api_import_cancel(import_id: int) -> Any:
    """Cancel a trainee import that has not been committed."""
    imp, cohort = _import(import_id, "corporate_trainees.import")
    return _present(service.cancel_import(db.session, imp.id, user(), cohort=cohort))


@bp.get("/api/corporate-cohorts/<int:cohort_id>/trainees")
@requires("corporate_trainees.view")
@contract(resp=responds(HTTP_200=Page[TraineeOut]))
def api_trainee_list(cohort_id: int, query: TraineesQuery) -> Any:
    """A corporate cohort's trainees."""
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    return paginate(trainees_query(cohort.id, query.q, current_language()), present.trainee, query=query)


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
    flash(_("“%(name)s” uploaded; checking it now.", name=imp.original_filename), "success")
    return redirect(url_for("imports.import_status", import_id=imp.id))


@bp.get("/admin/trainee-imports/<int:import_id>")
@requires("corporate_trainees.view")
def import_status(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.view")
    preview = service.preview_rows(db.session, imp.id) if imp.status.value not in IN_PROGRESS else []
    return render_template("imports/status.html", imp=imp, cohort=cohort, preview=preview, job=_job(imp),
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
    commit.request_commit(db.session, imp.id, user(), cohort=cohort, **_form_choices().model_dump())
    flash(_("Adding the valid rows to the cohort…"), "info")
    return redirect(url_for("imports.import_status", import_id=import_id))


@bp.post("/admin/trainee-imports/<int:import_id>/retry")
@requires("corporate_trainees.import")
def import_retry(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    retry_import(db.session, imp.id, user(), cohort=cohort)
    flash(_("Checking the file again."), "info")
    return redirect(url_for("imports.import_status", import_id=import_id))


@bp.post("/admin/trainee-imports/<int:import_id>/cancel")
@requires("corporate_trainees.import")
def import_cancel(import_id: int) -> Any:
    imp, cohort = _import(import_id, "corporate_trainees.import")
    service.cancel_import(db.session, imp.id, user(), cohort=cohort)
    flash(_("Import cancelled. The file is kept for the record."), "success")
    return redirect(url_for("imports.import_status", import_id=import_id))


@bp.get("/admin/corporate-cohorts/<int:cohort_id>/imports")
@requires("corporate_trainees.view")
def import_history(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    page = _imports_page(cohort, PageQuery.model_validate({"per_page": 25, **request.args.to_dict()}))
    return render_template("imports/history.html", cohort=cohort, page=page, uploaders=_uploaders(page["items"]))


@bp.get("/admin/corporate-cohorts/<int:cohort_id>/trainees")
@requires("corporate_trainees.view")
def trainee_list(cohort_id: int) -> Any:
    cohort = _cohort(cohort_id, "corporate_trainees.view")
    query = TraineesQuery.model_validate(request.args.to_dict())
    page = paginate(trainees_query(cohort.id, query.q, current_language()), lambda t: t, query=query)
    return render_template("imports/trainees.html", cohort=cohort, page=page, q=query.q)
