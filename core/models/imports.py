"""Trainee CSV imports and their per-row results."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped
from .enums import ImportStatus, enum_column


class ImportKind(StrEnum):
    TRAINEES = "trainees"  # corporate trainees into one corporate cohort
    LEARNERS = "learners"  # an institution's learners, optionally enrolled into one public cohort


class TraineeImport(Timestamped, Base):
    __tablename__ = "trainee_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(enum_column(ImportKind), default=ImportKind.TRAINEES,
                                             server_default=text("'trainees'"))
    # Trainee imports always name their cohort; learner imports name their institution, and a cohort if any.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"),
                                                       index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    original_filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.UPLOADED)
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    valid_count: Mapped[int] = mapped_column(default=0)
    invalid_count: Mapped[int] = mapped_column(default=0)
    errors_by_reason: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error_message: Mapped[str | None] = mapped_column(Text)
    inserted_count: Mapped[int] = mapped_column(default=0)
    enrolled_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))  # learner imports
    # Rows with no phone, email or code whose name matches a trainee already in the cohort (a warning).
    possible_duplicate_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The admin's choices at commit: commit a file already committed here; add the possible duplicates too.
    duplicate_file_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    include_possible_duplicates: Mapped[bool] = mapped_column(default=False, server_default=false())
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    committed_at: Mapped[dt.datetime | None]
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TraineeImportRow(Base):
    """One row's result. Written at 50k+ rows/s by COPY, so it carries one index, its key (import, row number),
    and a small partial one for the errors the preview and the error report list first. No foreign key
    (its check per row was half of the COPY): a trigger on trainee_imports deletes an import's rows with it
    (migration 0010_import_rows)."""

    __tablename__ = "trainee_import_rows"
    __table_args__ = (
        Index("ix_trainee_import_rows_errors", "import_id", "row_number",
              postgresql_where=text("NOT ok"), sqlite_where=text("NOT ok")),
    )

    import_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    row_number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # data row, header excluded, from 1
    ok: Mapped[bool]
    full_name: Mapped[str | None] = mapped_column(String(200))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    job_title: Mapped[str | None] = mapped_column(String(120))
    employee_code: Mapped[str | None] = mapped_column(String(60))
    department: Mapped[str | None] = mapped_column(String(120))
    id_number: Mapped[str | None] = mapped_column(String(40))  # learner imports
    date_of_birth: Mapped[dt.date | None]  # learner imports
    errors: Mapped[dict[str, Any] | None]  # {"errors": [{column, value, code, message}]}
