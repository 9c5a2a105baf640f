"""Attendance records (public and corporate) and the evidence behind them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped, utcnow
from .enums import AttendanceStatus, enum_column


class MarkFields:
    """The columns every attendance row has, public or corporate."""

    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus))
    minutes_late: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id", ondelete="SET NULL"))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    # Bumped on every change: clients send it back as expected_version to detect lost updates.
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())
    # How the mark was made: staff (the register), self_check_in (the learner's phone), auto (unmarked at close).
    source: Mapped[str] = mapped_column(String(20), default="staff", server_default=text("'staff'"))
    checked_in_at: Mapped[dt.datetime | None]  # when the learner checked in (self_check_in only)


class AttendanceRecord(Timestamped, MarkFields, Base):
    """Public cohorts. `session_id` is NULL for legacy daily records, which stay valid."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        Index(
            "uq_attendance_records_enrolment_session",
            "enrolment_id", "session_id",
            unique=True,
            postgresql_where=text("session_id IS NOT NULL"),
            sqlite_where=text("session_id IS NOT NULL"),
        ),
        Index(
            "uq_attendance_records_enrolment_date_legacy",
            "enrolment_id", "record_date",
            unique=True,
            postgresql_where=text("session_id IS NULL"),
            sqlite_where=text("session_id IS NULL"),
        ),
        Index("ix_attendance_records_session", "session_id"),
        Index("ix_attendance_records_record_date", "record_date"),
        Index("ix_attendance_records_enrolment_date", "enrolment_id", "record_date"),
        CheckConstraint("minutes_late IS NULL OR minutes_late >= 0", name="minutes_late_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    record_date: Mapped[dt.date]
    session_id: Mapped[int | None] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))


class CorporateAttendanceRecord(Timestamped, MarkFields, Base):
    __tablename__ = "corporate_attendance_records"
    __table_args__ = (
        UniqueConstraint("trainee_id", "session_id"),
        Index("ix_corporate_attendance_records_session", "session_id"),
        CheckConstraint("minutes_late IS NULL OR minutes_late >= 0", name="minutes_late_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("corporate_trainees.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))


class EvidenceFile(Timestamped, Base):
    """A sick note or similar, on private storage."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AtRiskFlag(Base):
    """One crossing of a trainee into "at risk" (low rate or missed sessions in a row).

    Open while `cleared_at` is NULL; at most one open flag per trainee, so each crossing is reported once.
    `member_type` is "enrolment" (public cohorts) or "corporate_trainee".
    """

    __tablename__ = "at_risk_flags"
    __table_args__ = (
        Index(
            "uq_at_risk_flags_open_member",
            "cohort_id", "member_type", "member_id",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
            sqlite_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    member_type: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(40))  # "low_rate", "consecutive_misses" or both joined by "+"
    rate: Mapped[float | None] = mapped_column(Float)
    consecutive_misses: Mapped[int] = mapped_column(default=0)
    flagged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[dt.datetime | None]
