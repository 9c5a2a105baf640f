"""Generated register documents (PDF, XLSX, CSV) and their submissions to regulators or clients.

A READY document never changes: its file, sha256 and reference are what was issued. New data makes a
new document; `data_version` (a digest of everything the document shows) lets an unchanged one be
served again instead of rebuilt.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped
from .enums import (
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    SubmissionResource,
    SubmissionStatus,
    enum_column,
)

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed from paper


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_reference() -> str:
    """Public and unguessable (60 bits): R + 12 characters in groups of four."""
    return f"R{new_code(4)}-{new_code(4)}-{new_code(4)}"


class RegisterDocument(Timestamped, Base):
    __tablename__ = "register_documents"
    __table_args__ = (
        Index("ix_register_documents_reuse", "cohort_id", "session_id", "kind", "format", "language",
              "data_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The issuing institution (the verify page names it); NULL only on client reports built before they were
    # issued like registers (verification then reads it from the cohort).
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"),
                                                       index=True)
    # NULL only on an organization's statement (corporate finance), which is the organization's, not a cohort's.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                        index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    format: Mapped[DocumentFormat] = mapped_column(enum_column(DocumentFormat, 8), server_default=text("'pdf'"))
    language: Mapped[str] = mapped_column(String(8), server_default=text("'en'"))
    # Cohort registers: the date range asked for (inclusive). NULL for session registers.
    period_start: Mapped[dt.date | None]
    period_end: Mapped[dt.date | None]
    status: Mapped[DocumentStatus] = mapped_column(enum_column(DocumentStatus), default=DocumentStatus.PENDING)
    # Public: printed in the footer and the QR code, looked up by /verify/<reference>.
    reference: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: new_reference())
    # Printed beside the reference; /verify also accepts it typed (indexed: a public lookup).
    verification_code: Mapped[str] = mapped_column(String(16), default=lambda: new_code(), index=True)
    data_version: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    # PDFs: SHA-256 of the seal certificate that sealed the file (core.seals); NULL for spreadsheets.
    seal_fingerprint: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None]
    page_count: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class Submission(Timestamped, Base):
    """A register handed in as an ATTENDANCE_REGISTER: frozen to the exact file (sha256) it was made from."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("uq_submissions_document_id", "document_id", unique=True,
              postgresql_where=text("document_id IS NOT NULL"), sqlite_where=text("document_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"),
                                                       index=True)
    resource_type: Mapped[SubmissionResource] = mapped_column(enum_column(SubmissionResource, 40))
    resource_id: Mapped[int]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("register_documents.id", ondelete="SET NULL"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    submitted_to: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[SubmissionStatus] = mapped_column(enum_column(SubmissionStatus), default=SubmissionStatus.DRAFT)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[dt.datetime | None]
    # The institution's audit chain head when it was submitted (core/audit_trail): a later change of the trail
    # shows against it.
    trail_seq: Mapped[int | None] = mapped_column(BigInteger)
    trail_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
