"""Personal data as the law asks (issue 25): corrections kept, erasures with their legal holds, data exports,
the access log of staff reads, and each institution's retention policy and its runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PersonalDataCorrection(Base):
    """One change to one personal field of a person (who, when, old and new value, why). An erasure keeps the
    row (the change happened) and forgets both values."""

    __tablename__ = "personal_data_corrections"
    __table_args__ = (Index("ix_personal_data_corrections_person", "person_kind", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"),
                                                       index=True)
    person_kind: Mapped[str] = mapped_column(String(20))  # learners | trainees | users
    person_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(300))
    actor_id: Mapped[int | None]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PersonalDataErasure(Base):
    """A person's erasure: done in one transaction; files deleted after commit (`pending_files`, cleared by the
    job); documents under a legal hold listed in `held` until the retention job finishes them."""

    __tablename__ = "personal_data_erasures"
    __table_args__ = (UniqueConstraint("person_kind", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"),
                                                       index=True)
    person_kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int]
    pseudonym: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None]
    erased_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # What was done, in counts and kinds (never the erased values): shown to whoever asks again.
    summary: Mapped[dict[str, Any]]
    # [{"document_id", "reference", "kind", "kept_until"}]: registers kept unchanged under a legal hold.
    held: Mapped[dict[str, Any]]
    # Storage keys still to delete (the job empties it; a crash leaves it for the next run).
    pending_files: Mapped[dict[str, Any]]
    files_deleted_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]  # every hold ended and its documents removed


class DataExport(Base):
    """A ZIP of everything held on a person, built by a worker; private, and gone after `expires_at`."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_person", "person_kind", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"),
                                                       index=True)
    person_kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int]
    requested_by_id: Mapped[int | None]
    language: Mapped[str] = mapped_column(String(8), server_default=text("'en'"))
    status: Mapped[str] = mapped_column(String(12), default="PENDING")  # PENDING | BUILDING | READY | FAILED
    storage_key: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]


class PersonalDataAccess(Base):
    """A staff member's read of a person's page or export: the person sees it in their own export."""

    __tablename__ = "personal_data_access_log"
    __table_args__ = (Index("ix_personal_data_access_log_person", "person_kind", "person_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    person_kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int]
    viewer_id: Mapped[int | None]
    viewer_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))  # view | export
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RetentionPolicy(Base):
    """An institution's retention periods (README: the defaults). No row: the defaults."""

    __tablename__ = "retention_policies"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True)
    import_files_days: Mapped[int] = mapped_column(server_default=text("90"))
    error_reports_days: Mapped[int] = mapped_column(server_default=text("90"))
    evidence_years: Mapped[int] = mapped_column(server_default=text("5"))
    registers_years: Mapped[int] = mapped_column(server_default=text("10"))
    invoices_years: Mapped[int] = mapped_column(server_default=text("10"))
    updated_by_id: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RetentionRun(Base):
    """One institution's nightly retention run: counts removed by category (never the data)."""

    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_institution_started", "institution_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    counts: Mapped[dict[str, Any]]


class ProcessingRegister(Base):
    """An institution's register of processing (law 18-07; POPIA s.17 documentation), prefilled from what the
    product does (core.personal_data.records.DEFAULT_ENTRIES) until an admin saves their own."""

    __tablename__ = "processing_registers"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True)
    entries: Mapped[dict[str, Any]]
    updated_by_id: Mapped[int | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Breach(Base):
    """A personal-data incident: when found, what, whose data (the people derived from what it names), the
    measures taken, who was notified and when; reminders at the country's deadlines until notified."""

    __tablename__ = "breaches"
    __table_args__ = (Index("ix_breaches_institution_found", "institution_id", "found_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    found_at: Mapped[dt.datetime]
    description: Mapped[str] = mapped_column(Text)
    data_categories: Mapped[dict[str, Any]]   # {"items": ["names", "phones", …]}
    named: Mapped[dict[str, Any]]             # what the incident names: {"cohort_ids": [...], "people": [...]}
    affected: Mapped[dict[str, Any]]          # derived: {"learners": [...], "trainees": [...], "users": [...]}
    affected_count: Mapped[int] = mapped_column(default=0)
    measures: Mapped[str | None] = mapped_column(Text)
    notified_whom: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[dt.datetime | None]
    reminders_sent: Mapped[dict[str, Any]]    # {"hours": [72, 120]}: each reminder once
    created_by_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

