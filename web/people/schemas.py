"""Response schemas: staff accounts, learners, enrolments and learner imports."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel, Field

from core.jobs import JobView
from core.models import Enrolment, Learner, TraineeImport, User

from ..contract import file_field, file_required
from ..imports.schemas import ImportOut, RowError, trainee_import


def _decimal_text(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    schema.update(type="string", pattern="^\\s*[0-9]*\\s*$")


class LearnerCsvUpload(BaseModel):
    """multipart/form-data with the CSV in `file` and, optionally, the cohort to enrol every row into (the view
    reads both from the request and answers its own errors: `file_missing`, `invalid_cohort`)."""

    model_config = {"json_schema_extra": file_required}

    file: Any = file_field("The CSV: full_name, id_number, email, phone, date_of_birth.")
    cohort_id: Any = Field(None, description="A public cohort's id: every valid row is enrolled into it.",
                           json_schema_extra=_decimal_text)


class UserOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    active: bool
    institution_id: int | None
    organization_ids: list[int] = Field(description="Organizations an organization member belongs to.")
    phone: str | None
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
    unknown_id_numbers: list[str] = Field(description="ID numbers sent that no learner of the institution has.")


class SkippedInvitation(BaseModel):
    id: int = Field(description="The learner (public cohort) or trainee (corporate cohort).")
    reason: str = Field(description="no_email, email_in_use (a staff account's address), not_a_learner_account "
                                    "or already_signed_up (has chosen a password: not mailed again).")


class InvitationResult(BaseModel):
    """Who was mailed a link to choose their password, and who was not, with why."""

    invited: list[int] = Field(description="Learner or trainee ids whose account was mailed an invitation.")
    skipped: list[SkippedInvitation]


class LearnerImportLinks(BaseModel):
    self: str
    page: str
    rows: str
    errors_csv: str
    commit: str
    cancel: str


class LearnerImportOut(ImportOut):
    """A trainee import's answer (the same pipeline) with what a learner import adds."""

    kind: str = Field(description="learners")
    institution_id: int | None
    cohort_id: int | None = Field(description="The public cohort every row is enrolled into, if any.")  # type: ignore[assignment]
    enrolled_count: int
    links: LearnerImportLinks  # type: ignore[assignment]


class LearnerImportRowOut(BaseModel):
    row: int
    ok: bool
    full_name: str | None
    id_number: str | None
    email: str | None
    phone: str | None
    date_of_birth: str | None
    errors: list[RowError]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def present_user(u: User, cohort_ids: list[int]) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "full_name": u.full_name, "role": u.role.value, "active": u.active,
            "institution_id": u.institution_id, "organization_ids": u.organization_ids, "phone": u.phone_e164,
            "cohort_ids": cohort_ids, "last_login_at": _iso(u.last_login_at)}


def present_learner(learner: Learner) -> dict[str, Any]:
    return {"id": learner.id, "institution_id": learner.institution_id, "full_name": learner.full_name,
            "id_number": learner.id_number, "email": learner.email, "phone": learner.phone_e164,
            "date_of_birth": _iso(learner.date_of_birth)}


def present_enrolment(e: Enrolment, learner_name: str | None = None) -> dict[str, Any]:
    return {"id": e.id, "learner_id": e.learner_id, "cohort_id": e.cohort_id, "status": e.status.value,
            "enrolled_on": _iso(e.enrolled_on), "withdrawn_on": _iso(e.withdrawn_on),
            "withdrawal_reason": e.withdrawal_reason, "learner_name": learner_name}


IMPORT_LINKS = {"self": "api_learner_import_detail", "page": "learner_import_status", "rows": "api_learner_import_rows",
                "errors_csv": "api_learner_import_errors", "commit": "api_learner_import_commit",
                "cancel": "api_learner_import_cancel"}


def present_learner_import(imp: TraineeImport, job: JobView | None = None) -> dict[str, Any]:
    """A trainee import's fields (the same pipeline), what a learner import adds, and the learner routes."""
    return {
        **trainee_import(imp, None, job), "kind": imp.kind.value, "institution_id": imp.institution_id,
        "enrolled_count": imp.enrolled_count,
        "links": {name: url_for(f"people.{endpoint}", import_id=imp.id) for name, endpoint in IMPORT_LINKS.items()},
    }


def present_import_row(r: Any) -> dict[str, Any]:
    return {"row": r.row_number, "ok": r.ok, "full_name": r.full_name, "id_number": r.id_number, "email": r.email,
            "phone": r.phone_e164, "date_of_birth": _iso(r.date_of_birth),
            "errors": (r.errors or {}).get("errors", [])}
