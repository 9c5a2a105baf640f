"""Response schemas of the registers API and the presenters that fill them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import url_for
from flask_babel import gettext as _
from pydantic import BaseModel, Field

from core.models import DocumentStatus, RegisterDocument
from core.registers.submissions import SubmissionView
from core.registers.verification import Verification
from core.seals.checking import SealCheck

from ..contract import file_field, file_required


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
    sealed: bool = Field(description="The PDF carries its institution's seal (issue 22); spreadsheets are not sealed.")
    seal_fingerprint: str | None = Field(description="SHA-256 of the seal certificate that sealed the PDF.")

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
        sealed=doc.seal_fingerprint is not None, seal_fingerprint=doc.seal_fingerprint,
    ).model_dump(mode="json", by_alias=True)


def present_submission(view: SubmissionView) -> dict[str, object]:
    download = (url_for("registers.api_download", document_id=view.register_document_id)
                if view.register_document_id is not None else None)
    return SubmissionOut(**view.__dict__, trail_changed=view.trail_changed,
                         download_url=download).model_dump(mode="json")


class PdfUpload(BaseModel):
    """multipart/form-data with the file to check in `file` (read, hashed and checked; never stored)."""

    model_config = {"json_schema_extra": file_required}

    file: Any = file_field("The PDF to check (or an issued CSV/XLSX, matched by its bytes).")


SealStatus = Literal["sealed_unchanged", "changed_after_sealing", "sealed_by_other", "not_sealed"]


class SealOut(BaseModel):
    status: SealStatus
    message: str = Field(description="The status in words, in the reader's language.")
    institution: str | None = Field(description="Whose seal (an institution of this site), if any.")
    fingerprint: str | None = Field(description="SHA-256 of the certificate that sealed the file.")
    signer: str | None = Field(description="The sealing certificate's subject, as written in it.")
    sealed_at: dt.datetime | None = Field(description="When the signer says it sealed (not a trusted timestamp).")


class VerifiedDocumentOut(BaseModel):
    reference: str
    verification_code: str
    institution: str
    institution_seal_fingerprint: str | None = Field(
        description="SHA-256 of the issuing institution's seal in force: compare it with the file's.")
    kind: str
    format: str
    cohort: str
    issued_at: dt.datetime | None
    sha256: str | None
    superseded_by: str | None


class VerificationOut(BaseModel):
    exact_match: bool = Field(description="The file's bytes are exactly the issued document's.")
    sha256: str | None
    document: VerifiedDocumentOut | None
    seal: SealOut | None = Field(description="Null for spreadsheets (matched by their bytes alone).")


def seal_message(seal: SealCheck) -> str:
    """The seal's status in words (the verification page says the same)."""
    if seal.outcome == "sealed_unchanged":
        return _("Sealed by %(institution)s and unchanged since.", institution=seal.institution)
    if seal.outcome == "changed_after_sealing":
        return _("Changed after sealing: this file is no longer as %(institution)s sealed it.",
                 institution=seal.institution)
    if seal.outcome == "sealed_by_other":
        return _("Sealed by someone else (%(signer)s), not by an institution of this site.", signer=seal.signer)
    return _("Not sealed: this PDF carries no seal.")


def present_verification(result: Verification) -> dict[str, object]:
    found, seal = result.found, result.seal
    document = None if found is None else VerifiedDocumentOut(
        reference=found.reference, verification_code=found.verification_code, institution=found.institution,
        institution_seal_fingerprint=found.seal_fingerprint, kind=found.kind, format=found.format,
        cohort=found.cohort, issued_at=found.issued_at, sha256=found.sha256, superseded_by=found.superseded_by)
    seal_out = None if seal is None else SealOut(
        status=seal.outcome, message=seal_message(seal), institution=seal.institution, fingerprint=seal.fingerprint,
        signer=seal.signer, sealed_at=seal.sealed_at)
    return VerificationOut(exact_match=found is not None and found.sha256 == result.sha256, sha256=result.sha256,
                           document=document, seal=seal_out).model_dump(mode="json")
