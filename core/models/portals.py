"""What the organization portal and the cohort list read instead of scanning every attendance record."""

from __future__ import annotations

from sqlalchemy import ForeignKey, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SessionStatusCounts:
    """How many of a session's trainees or learners were marked with each status (one row per session)."""

    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    late: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    absent: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    excused: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class CorporateSessionCounts(SessionStatusCounts, Base):
    """Kept by database triggers on `corporate_attendance_records` (migration 0009: statement-level triggers
    with transition tables on PostgreSQL, row triggers on SQLite), in the same transaction as the marks:
    no application code writes it, and it is never stale. A programme list of 200 cohorts then sums
    20,000 session rows instead of a million records.
    """

    __tablename__ = "corporate_session_counts"


class PublicSessionCounts(SessionStatusCounts, Base):
    """The same for public cohorts, kept by triggers on `attendance_records` (migration 0007; legacy daily
    records, which have no session, are not counted). The cohort list sums these rows instead of scanning
    two million records."""

    __tablename__ = "public_session_counts"
