"""Response schemas of personal data: erasures, exports, corrections, the access log, retention."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class HeldOut(BaseModel):
    type: str = Field(description="register_document or import_file")
    kept_until: str = Field(description="The day the legal hold ends (YYYY-MM-DD); the retention job then "
                                        "finishes the erasure.")
    document_id: int | None = None
    reference: str | None = None
    kind: str | None = None
    import_id: int | None = None


class ErasureOut(BaseModel):
    id: int
    kind: str
    person_id: int
    pseudonym: str
    erased_at: str
    status: str = Field(description="HELD while a legal hold keeps documents; COMPLETE once every hold ended.")
    already_erased: bool = Field(description="True when an earlier request did the erasure: this answers what "
                                             "was done.")
    held: list[HeldOut]
    summary: dict[str, Any]
    files_pending: int = Field(description="Files still to delete after the commit (a job does it).")
    completed_at: str | None


class DataExportOut(BaseModel):
    id: int
    kind: str
    person_id: int
    status: str = Field(description="PENDING, BUILDING, READY, FAILED or EXPIRED (after 7 days).")
    status_url: str
    download_url: str | None
    size_bytes: int | None
    created_at: str
    expires_at: str | None
    error: str | None


class CorrectionOut(BaseModel):
    field: str
    old_value: str | None
    new_value: str | None
    reason: str | None
    actor_id: int | None
    at: str


class CorrectionsOut(BaseModel):
    items: list[CorrectionOut]


class AccessEntryOut(BaseModel):
    at: str
    action: str = Field(description="view or export")
    by: str | None
    role: str | None


class AccessLogOut(BaseModel):
    items: list[AccessEntryOut]


class RetentionOut(BaseModel):
    import_files_days: int
    error_reports_days: int
    evidence_years: int
    registers_years: int
    invoices_years: int
    last_runs: list[dict[str, Any]] = Field(description="The latest nightly runs: when, and counts removed.")


class ProcessingRegisterOut(BaseModel):
    entries: list[dict[str, Any]]
    prefilled: bool = Field(description="True while the register is the platform's own description, not saved.")
    information_officer_name: str | None
    information_officer_email: str | None
    updated_at: str | None


class DeadlineOut(BaseModel):
    hours: int
    due_at: str
    reminded: bool


class BreachOut(BaseModel):
    id: int
    found_at: str
    description: str
    data_categories: list[str]
    named: dict[str, Any]
    affected: dict[str, list[int]] = Field(description="People concerned, by kind (learners, trainees, users).")
    affected_count: int
    measures: str | None
    notified_whom: str | None
    notified_at: str | None
    deadlines: list[DeadlineOut]
    created_at: str
