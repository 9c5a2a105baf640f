"""Response schemas of the registers API and the presenters that fill them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import url_for
from pydantic import BaseModel, Field

from core.models import DocumentStatus, RegisterDocument
from core.registers.submissions import SubmissionView


class RegisterDocumentOut(BaseModel):
    id: int
    kind: Literal["session", "cohort"]
    format: Literal["pdf", "xlsx", "csv"]
    status: Literal["PENDING", "BUILDING", "READY", "FAILED"]
    status_url: str
    download_url: str | None = Field(description="Set once the document is READY.")
    sha256: str | None
    reference: str = Field(description="Public: printed on the document; /verify/<reference> checks it.")
    error: str | None = Field(description="Why the last build failed (FAILED, or retrying).")
    # Extensions (the contract above is fixed; these add to it).
    session_id: int | None
    cohort_id: int
    period_from: dt.date | None = Field(alias="from")
    period_to: dt.date | None = Field(alias="to")
    language: str
    page_count: int | None
    size_bytes: int | None
    retry_url: str | None = Field(description="Set when the document FAILED: POST it to build again.")
    verify_url: str

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class SubmissionOut(BaseModel):
    id: int
    register_document_id: int | None
    sha256: str | None
    submitted_at: dt.datetime | None
    amended_since: dt.datetime | None = Field(
        description="When a session of the submitted register was first unlocked after submitting; null if never.")
    reference: str | None
    kind: str | None
    cohort: str | None
    download_url: str | None = Field(description="The submitted file itself (its sha256 is the submission's).")
    trail_seq: int | None = Field(
        description="The institution's audit chain head when it was submitted: its position (0: an empty chain).")
    trail_hash: str | None = Field(description="The chain head's hash when it was submitted (hex SHA-256).")
    trail_holds: bool | None = Field(
        description="The chain still passes through that head with that hash, and no nightly check found a break "
                    "at or before it; null for a submission made before the trail was chained.")
    trail_changed: bool = Field(
        description="Trail changed since submission: the register was amended, or trail_holds is false.")


class SubmissionPage(BaseModel):
    items: list[SubmissionOut]
    page: int
    per_page: int
    total: int
    pages: int


def present_document(doc: RegisterDocument) -> dict[str, object]:
    ready = doc.status == DocumentStatus.READY
    return RegisterDocumentOut(
        id=doc.id, kind=doc.kind.value, format=doc.format.value, status=doc.status.value,
        status_url=url_for("registers.api_document", document_id=doc.id),
        download_url=url_for("registers.api_download", document_id=doc.id) if ready else None,
        sha256=doc.sha256, reference=doc.reference, error=doc.error_message, session_id=doc.session_id,
        cohort_id=doc.cohort_id, period_from=doc.period_start, period_to=doc.period_end, language=doc.language,
        page_count=doc.page_count, size_bytes=doc.size_bytes,
        retry_url=url_for("registers.api_retry", document_id=doc.id) if doc.status == DocumentStatus.FAILED else None,
        verify_url=url_for("registers.verify_reference", reference=doc.reference),
    ).model_dump(mode="json", by_alias=True)


def present_submission(view: SubmissionView) -> dict[str, object]:
    download = (url_for("registers.api_download", document_id=view.register_document_id)
                if view.register_document_id is not None else None)
    return SubmissionOut(**view.__dict__, trail_changed=view.trail_changed,
                         download_url=download).model_dump(mode="json")
