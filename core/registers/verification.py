"""Public verification of issued documents: by reference (the footer, the QR code) or by the file's bytes.

Answers who issued the document, when, for which session or cohort, its sha256, and whether a newer build
of the same document has superseded it. Never any trainee data. Attendance registers and client reports
(core.portals.reports: delivery and progress reports) are issued and verified alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import TooLarge
from core.i18n import N_
from core.models import (
    ClassSession,
    Cohort,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    Institution,
    RegisterDocument,
)
from core.seals import checking
from core.seals import service as seals
from core.storage import CHUNK, PrivateStorage

from .data import Scope

# A client report's kind names the report; its format is the document's format.
REPORT_KINDS = {
    DocumentKind.DELIVERY_REPORT_PDF: "delivery_report", DocumentKind.DELIVERY_REPORT_XLSX: "delivery_report",
    DocumentKind.PROGRESS_REPORT_PDF: "progress_report", DocumentKind.PROGRESS_REPORT_XLSX: "progress_report",
}


@dataclass(frozen=True)
class Verified:
    reference: str
    verification_code: str
    institution: str
    kind: str                           # session | cohort | delivery_report | progress_report
    format: str
    cohort: str
    session_date: dt.date | None
    session_start: dt.time | None
    session_end: dt.time | None
    period_start: dt.date | None
    period_end: dt.date | None
    issued_at: dt.datetime | None
    sha256: str | None
    superseded_at: dt.datetime | None   # when a newer build of the same register was issued
    superseded_by: str | None
    time_zone: str = "UTC"              # the issuing institution's: times are shown in it
    seal_fingerprint: str | None = None  # SHA-256 of the issuing institution's seal in force (to compare)
    storage_key: str | None = None      # the issued file (its seal is validated on the verification page)
    # The issuer's information / data-protection officer (issue 25): whom to ask about the data in it.
    officer_name: str | None = None
    officer_email: str | None = None


@dataclass(frozen=True)
class Verification:
    """What /verify answers: the issued document (if any) and the file's seal in words."""

    found: Verified | None
    seal: checking.SealCheck | None   # None: not a PDF (spreadsheets are matched by their bytes alone)
    sha256: str | None


def check_reference(session: Session, storage: PrivateStorage, text: str) -> Verification:
    """A typed reference or code: the issued document, and the seal of its stored file validated."""
    found = by_reference_or_code(session, text)
    if found is None or found.storage_key is None or found.format != DocumentFormat.PDF.value:
        return Verification(found, None, found.sha256 if found else None)
    content = storage.path(found.storage_key).read_bytes()
    return Verification(found, checking.check_seal(session, content), found.sha256)


def read_upload(stream: BinaryIO, max_bytes: int) -> bytes:
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise TooLarge(N_("The file is larger than any register we issue."), code="too_large")
    return content


def check_upload(session: Session, content: bytes) -> Verification:
    """An uploaded file: refused in words when it is no PDF we could have issued (not a PDF, encrypted,
    scripts, external references, a broken signature); otherwise matched to an issued document by its bytes
    and its seal validated. A file changed after sealing is still named: the bytes it was sealed as are an
    issued document's."""
    sha = hashlib.sha256(content).hexdigest()
    doc = _ready_by_sha(session, sha)
    if not checking.is_pdf(content) and doc is not None:
        return Verification(_verified(session, doc), None, sha)  # an issued spreadsheet, byte for byte
    checking.inspect(content)
    seal = checking.check_seal(session, content)
    if doc is None and seal.sealed_sha256:
        doc = _ready_by_sha(session, seal.sealed_sha256)
    return Verification(_verified(session, doc) if doc is not None else None, seal, sha)


def _ready_by_sha(session: Session, sha: str) -> RegisterDocument | None:
    return session.scalar(select(RegisterDocument).where(RegisterDocument.sha256 == sha,
                                                         RegisterDocument.status == DocumentStatus.READY)
                          .order_by(RegisterDocument.id).limit(1))


def by_reference(session: Session, reference: str) -> Verified | None:
    """The issued (READY) document with this reference, or None."""
    doc = session.scalar(select(RegisterDocument).where(RegisterDocument.reference == reference.strip().upper(),
                                                        RegisterDocument.status == DocumentStatus.READY))
    return _verified(session, doc) if doc is not None else None


def typed(text: str) -> str:
    """What someone typed from a printed document, as stored: upper case, without spaces; a reference's
    dashes are added back when they were left out (R + 12 characters)."""
    cleaned = "".join(text.split()).upper()[:40]
    bare = cleaned.replace("-", "")
    if len(bare) == 13 and bare.startswith("R"):
        return f"{bare[:5]}-{bare[5:9]}-{bare[9:]}"
    return cleaned


def by_reference_or_code(session: Session, text: str) -> Verified | None:
    """The issued document a typed reference or verification code names. A code names a document only when
    exactly one issued document has it (codes are short: the reference is what is unique)."""
    wanted = typed(text)
    if not wanted:
        return None
    found = by_reference(session, wanted)
    if found is not None:
        return found
    docs = session.scalars(select(RegisterDocument).where(RegisterDocument.verification_code == wanted,
                                                          RegisterDocument.status == DocumentStatus.READY)
                           .limit(2)).all()
    return _verified(session, docs[0]) if len(docs) == 1 else None


def by_content(session: Session, stream: BinaryIO, max_bytes: int) -> tuple[str, Verified | None]:
    """(sha256 of the upload, the issued document with exactly those bytes or None)."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(N_("The file is larger than any register we issue."), code="too_large")
        digest.update(chunk)
    sha = digest.hexdigest()
    doc = session.scalar(select(RegisterDocument).where(RegisterDocument.sha256 == sha,
                                                        RegisterDocument.status == DocumentStatus.READY)
                         .order_by(RegisterDocument.id).limit(1))
    return sha, (_verified(session, doc) if doc is not None else None)


def _verified(session: Session, doc: RegisterDocument) -> Verified:
    columns = (Institution.id, Institution.name, Institution.time_zone, Institution.information_officer_name,
               Institution.information_officer_email)
    issuer = session.execute(select(*columns).where(
        Institution.id == doc.institution_id) if doc.institution_id is not None else  # (a statement has no cohort)
        select(*columns).join(Cohort, Cohort.institution_id == Institution.id)
        .where(Cohort.id == doc.cohort_id)).first()
    institution, zone = (issuer.name, issuer.time_zone or "UTC") if issuer else ("", "UTC")
    seal = seals.in_force(session, issuer.id) if issuer else None
    cohort = session.scalar(select(Cohort.name).where(Cohort.id == doc.cohort_id)) or ""
    day = start = end = None
    if doc.session_id is not None:
        row = session.execute(select(ClassSession.session_date, ClassSession.start_time, ClassSession.end_time)
                              .where(ClassSession.id == doc.session_id)).first()
        if row is not None:
            day, start, end = row
    newer = superseding(session, doc)
    kind = REPORT_KINDS.get(doc.kind, doc.kind.value)
    return Verified(doc.reference, doc.verification_code, institution, kind, doc.format.value, cohort,
                    day, start, end, doc.period_start, doc.period_end, doc.finished_at, doc.sha256,
                    newer.finished_at if newer else None, newer.reference if newer else None, zone,
                    seal.fingerprint if seal else None, doc.storage_key,
                    issuer.information_officer_name if issuer else None,
                    issuer.information_officer_email if issuer else None)


def superseding(session: Session, doc: RegisterDocument) -> RegisterDocument | None:
    """The newest READY build of the same register (same scope and format) made from other data."""
    scope = Scope(doc.kind, doc.cohort_id, doc.session_id, doc.period_start, doc.period_end)
    stmt = select(RegisterDocument).where(
        RegisterDocument.cohort_id == scope.cohort_id, RegisterDocument.kind == scope.kind,
        RegisterDocument.format == doc.format, RegisterDocument.status == DocumentStatus.READY,
        RegisterDocument.id > doc.id, RegisterDocument.data_version != doc.data_version)
    if scope.kind == DocumentKind.SESSION:
        stmt = stmt.where(RegisterDocument.session_id == scope.session_id)
    else:
        stmt = stmt.where(RegisterDocument.period_start == scope.period_start,
                          RegisterDocument.period_end == scope.period_end)
    return session.scalar(stmt.order_by(RegisterDocument.id.desc()).limit(1))
