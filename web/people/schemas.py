"""Response schemas: staff accounts, learners, enrolments and learner imports."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel

from core.models import Enrolment, Learner, TraineeImport, User


class UserOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    active: bool
    institution_id: int | None
    cohort_ids: list[int]
    last_login_at: str | None


class LearnerOut(BaseModel):
    id: int
    institution_id: int
    full_name: str
    id_number: str | None
    email: str | None
    phone: str | None
    date_of_birth: str | None


class EnrolmentOut(BaseModel):
    id: int
    learner_id: int
    cohort_id: int | None
    status: str
    enrolled_on: str | None
    withdrawn_on: str | None
    withdrawal_reason: str | None
    learner_name: str | None = None


class EnrolResult(BaseModel):
    enrolled: list[EnrolmentOut]
    already_enrolled: list[EnrolmentOut]


class ImportProgress(BaseModel):
    rows_done: int
    rows_total: int | None


class ImportCounts(BaseModel):
    valid: int
    invalid: int
    by_reason: dict[str, int]


class LearnerImportOut(BaseModel):
    id: int
    kind: str
    institution_id: int | None
    cohort_id: int | None
    status: str
    original_filename: str
    size_bytes: int
    sha256: str
    created_at: str | None
    finished_at: str | None
    committed_at: str | None
    progress: ImportProgress
    counts: ImportCounts
    inserted_count: int
    enrolled_count: int
    error_message: str | None
    links: dict[str, str]


class ImportRowOut(BaseModel):
    row: int
    ok: bool
    full_name: str | None
    id_number: str | None
    email: str | None
    phone: str | None
    date_of_birth: str | None
    errors: list[dict[str, Any]]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def present_user(u: User, cohort_ids: list[int]) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "full_name": u.full_name, "role": u.role.value, "active": u.active,
            "institution_id": u.institution_id, "cohort_ids": cohort_ids, "last_login_at": _iso(u.last_login_at)}


def present_learner(learner: Learner) -> dict[str, Any]:
    return {"id": learner.id, "institution_id": learner.institution_id, "full_name": learner.full_name,
            "id_number": learner.id_number, "email": learner.email, "phone": learner.phone_e164,
            "date_of_birth": _iso(learner.date_of_birth)}


def present_enrolment(e: Enrolment, learner_name: str | None = None) -> dict[str, Any]:
    return {"id": e.id, "learner_id": e.learner_id, "cohort_id": e.cohort_id, "status": e.status.value,
            "enrolled_on": _iso(e.enrolled_on), "withdrawn_on": _iso(e.withdrawn_on),
            "withdrawal_reason": e.withdrawal_reason, "learner_name": learner_name}


def present_learner_import(imp: TraineeImport) -> dict[str, Any]:
    return {
        "id": imp.id, "kind": imp.kind.value, "institution_id": imp.institution_id, "cohort_id": imp.cohort_id,
        "status": imp.status.value, "original_filename": imp.original_filename, "size_bytes": imp.size_bytes,
        "sha256": imp.sha256, "created_at": _iso(imp.created_at), "finished_at": _iso(imp.finished_at),
        "committed_at": _iso(imp.committed_at),
        "progress": {"rows_done": imp.rows_done, "rows_total": imp.rows_total},
        "counts": {"valid": imp.valid_count, "invalid": imp.invalid_count, "by_reason": imp.errors_by_reason or {}},
        "inserted_count": imp.inserted_count, "enrolled_count": imp.enrolled_count,
        "error_message": imp.error_message,
        "links": {
            "self": url_for("people.api_learner_import_detail", import_id=imp.id),
            "page": url_for("people.learner_import_status", import_id=imp.id),
            "rows": url_for("people.api_learner_import_rows", import_id=imp.id),
            "errors_csv": url_for("people.api_learner_import_errors", import_id=imp.id),
            "commit": url_for("people.api_learner_import_commit", import_id=imp.id),
            "cancel": url_for("people.api_learner_import_cancel", import_id=imp.id),
        },
    }


def present_import_row(r: Any) -> dict[str, Any]:
    return {"row": r.row_number, "ok": r.ok, "full_name": r.full_name, "id_number": r.id_number, "email": r.email,
            "phone": r.phone_e164, "date_of_birth": _iso(r.date_of_birth),
            "errors": (r.errors or {}).get("errors", [])}
