"""Response schemas of the imports API, the upload's form, and the presenters that fill them."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel, Field

from core.imports.rules import reason_sentence
from core.jobs import JobView
from core.models import CorporateTrainee, TraineeImport, TraineeImportRow, User

from ..contract import JobOut, file_field, file_required
from ..i18n import say


class CsvUpload(BaseModel):
    """multipart/form-data with the CSV in `file` (read from the request as a stream, never parsed here)."""

    model_config = {"json_schema_extra": file_required}

    file: Any = file_field("The CSV: full_name, phone, email, job_title, employee_code, department.")


class Uploader(BaseModel):
    id: int
    name: str


class ImportProgress(BaseModel):
    rows_done: int
    rows_total: int | None


class ImportCounts(BaseModel):
    valid: int
    invalid: int
    by_reason: dict[str, Any]
    possible_duplicates: int


class ReasonCount(BaseModel):
    code: str
    count: int
    message: str


class ImportLinks(BaseModel):
    self: str
    page: str
    rows: str
    errors_csv: str
    commit: str
    cancel: str
    retry: str


class ImportOut(BaseModel):
    id: int
    cohort_id: int
    status: str = Field(description="UPLOADED, VALIDATING, VALIDATED, FAILED, COMMITTING, COMMITTED or CANCELLED")
    original_filename: str
    size_bytes: int
    sha256: str
    uploaded_by: Uploader | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    committed_at: str | None
    progress: ImportProgress
    counts: ImportCounts
    reasons: list[ReasonCount]
    inserted_count: int
    error_message: str | None
    job: JobOut | None = Field(description="The background job (validation or commit), in words.")
    links: ImportLinks


class RowError(BaseModel):
    column: str | None = None
    value: str | None = None
    code: str
    message: str


class ImportRowOut(BaseModel):
    row: int
    ok: bool
    full_name: str | None
    phone_e164: str | None
    email: str | None
    employee_code: str | None
    errors: list[RowError]
    warnings: list[RowError] = Field(description="On a valid row: e.g. possible_duplicate.")


class TraineeOut(BaseModel):
    id: int
    full_name: str
    phone_e164: str | None
    email: str | None
    job_title: str | None
    employee_code: str | None
    department: str | None
    active: bool
    import_id: int | None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def trainee_import(imp: TraineeImport, uploader: User | None = None, job: JobView | None = None) -> dict[str, Any]:
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
        "job": job.as_json(say) if job else None,
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


def import_row(row: TraineeImportRow) -> dict[str, Any]:
    problems = row.errors or {}
    return {"row": row.row_number, "ok": row.ok, "full_name": row.full_name, "phone_e164": row.phone_e164,
            "email": row.email, "employee_code": row.employee_code, "errors": problems.get("errors", []),
            "warnings": problems.get("warnings", [])}


def trainee(t: CorporateTrainee) -> dict[str, Any]:
    return TraineeOut.model_validate(t, from_attributes=True).model_dump()
