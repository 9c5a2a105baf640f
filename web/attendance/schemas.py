"""Response schemas of the attendance API (the register as clients see it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..contract import file_field


class RegisterSession(BaseModel):
    id: int
    cohort_id: int
    cohort_name: str
    cohort_type: str
    session_date: str
    start_time: str
    end_time: str
    starts_at: str | None
    ends_at: str | None
    time_zone: str
    session_type: str
    title: str | None
    status: str
    room: str | None
    instructor: str | None
    is_locked: bool
    locked_at: str | None
    lock_reason: str | None
    relock_after: str | None
    auto_lock_at: str | None


class RegisterPermissions(BaseModel):
    mark: bool
    lock: bool
    unlock: bool


class RegisterRowOut(BaseModel):
    id: int
    enrolment_id: int | None = None
    trainee_id: int | None = None
    name: str
    reference: str | None
    active: bool
    record_id: int | None
    status: str | None
    minutes_late: int | None
    notes: str | None
    has_evidence: bool
    evidence_url: str | None
    marked_by: str | None
    marked_at: str | None
    version: int | None


class RegisterOut(BaseModel):
    session: RegisterSession
    key: str
    permissions: RegisterPermissions
    counts: dict[str, int]
    trainees: list[RegisterRowOut]


class MarkConflict(BaseModel):
    id: int
    enrolment_id: int | None = None
    trainee_id: int | None = None
    expected_version: int | None
    current_version: int
    current: dict[str, Any] | None
    reason: str
    message: str


class MarkResult(BaseModel):
    """By default what the mark changed: the counts and the changed rows (the client holds the rest of the
    register). With `full_register`: the whole register (`session`, `permissions`, every row) as well."""

    # Named by alias: a field called `register` would shadow BaseModel.register (and inherit it as its default).
    register_kind: Literal["changes", "full"] = Field(alias="register",
                                                      description="changes: what the mark changed; full: every row.")
    session_id: int | None = None
    key: str
    counts: dict[str, int]
    changed: list[int]
    conflicts: list[MarkConflict]
    trainees: list[RegisterRowOut]
    session: RegisterSession | None = None
    permissions: RegisterPermissions | None = None


class EvidenceOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


class HistoryItem(BaseModel):
    """One audited change of a mark."""

    at: str
    action: str
    by: str | None
    from_: dict[str, Any] | None = Field(alias="from")
    to: dict[str, Any] | None


class EvidenceUpload(BaseModel):
    """multipart/form-data with the sick note in `file` (PDF, JPEG or PNG; checked by content)."""

    file: Any = file_field("The sick note: PDF, JPEG or PNG.")
