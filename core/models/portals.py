"""What the organization portal reads instead of scanning every attendance record."""

from __future__ import annotations

from sqlalchemy import ForeignKey, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CorporateSessionCounts(Base):
    """How many trainees of a corporate session were marked with each status.

    Kept by database triggers on `corporate_attendance_records` (migration 0009: statement-level triggers
    with transition tables on PostgreSQL, row triggers on SQLite), in the same transaction as the marks:
    no application code writes it, and it is never stale. A programme list of 200 cohorts then sums
    20,000 session rows instead of a million records.
    """

    __tablename__ = "corporate_session_counts"

    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    late: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    absent: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    excused: Mapped[int] = mapped_column(default=0, server_default=text("0"))
