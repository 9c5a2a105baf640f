"""Class sessions: the schedule. PostgreSQL itself forbids double-booking (exclusion constraints)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, literal_column, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .enums import SessionStatus, SessionType, enum_column

_DURING = literal_column("tstzrange(starts_at, ends_at, '[)')")


def _no_overlap(column: str) -> ExcludeConstraint:
    """A room, an instructor or a cohort can't hold two overlapping non-cancelled sessions."""
    return ExcludeConstraint(
        (literal_column(column), "="),
        (_DURING, "&&"),
        name=f"ex_class_sessions_{column}_overlap",
        using="gist",
        where=text(f"status <> 'CANCELLED' AND {column} IS NOT NULL"),
    ).ddl_if(dialect="postgresql")


class ClassSession(Timestamped, Base):
    __tablename__ = "class_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        _no_overlap("room_id"),
        _no_overlap("instructor_id"),
        _no_overlap("cohort_id"),
        Index("ix_class_sessions_cohort_date", "cohort_id", "session_date"),
        Index("ix_class_sessions_institution_starts", "institution_id", "starts_at"),
        # The nightly sweep reads sessions by end from its watermark (lock_sweeps), from this index alone (a
        # day's sessions lie on as many heap pages as there are cohorts)…
        Index("ix_class_sessions_ends_at", "ends_at",
              postgresql_include=["id", "institution_id", "session_date", "is_locked", "relock_after"]),
        # …and finds the few unlocked "until relock_after" behind it here.
        Index(
            "ix_class_sessions_relock_after",
            "relock_after",
            postgresql_where=text("relock_after IS NOT NULL"),
            sqlite_where=text("relock_after IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    # Local (institution time zone) date and times, as the people in the room see them…
    session_date: Mapped[dt.date]
    start_time: Mapped[dt.time]
    end_time: Mapped[dt.time]
    # …and the same instants in UTC, for overlap checks, locking and calendars.
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    slot: Mapped[int] = mapped_column(default=1)
    session_type: Mapped[SessionType] = mapped_column(enum_column(SessionType), default=SessionType.THEORY)
    title: Mapped[str | None] = mapped_column(String(200))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"), index=True)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.SCHEDULED)
    # Locked by hand. Past its cut-off a session is locked anyway (core.attendance.locking: the rule); the
    # nightly sweep records those in session_lock_records, never here.
    is_locked: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    locked_at: Mapped[dt.datetime | None]
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lock_reason: Mapped[str | None] = mapped_column(String(300))
    # Set when an admin unlocks a past session: the nightly lock leaves it alone until then.
    relock_after: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())

    cohort = relationship("Cohort", lazy="joined")
    room = relationship("Room", lazy="joined")
    instructor = relationship("User", foreign_keys=[instructor_id], lazy="joined")


class LockSweep(Base):
    """The nightly lock's watermark (one row): every session ending at or before `swept_until` whose cut-off
    had passed is recorded as locked, so the next sweep starts there."""

    __tablename__ = "lock_sweeps"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    swept_until: Mapped[dt.datetime | None]
    last_run_at: Mapped[dt.datetime | None]
    last_locked: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class SessionLockRecord(Base):
    """The nightly sweep's record that a session's cut-off passed (a narrow table: recording a backlog never
    rewrites class_sessions and its indexes). `locked_at` is when the sweep saw it; the rule locked it at its
    cut-off. The sweep's audit row lists the sessions it recorded. No foreign key (its check per record was a
    third of a night's sweep): a trigger on class_sessions deletes a session's record with it (migration 0014)."""

    __tablename__ = "session_lock_records"

    session_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    locked_at: Mapped[dt.datetime]


class CalendarEventVersion(Base):
    """What an iCalendar event last showed (a fingerprint), its SEQUENCE and LAST-MODIFIED: any change of
    what it shows (a renamed room or cohort too) bumps both the next time a feed is read."""

    __tablename__ = "calendar_event_versions"

    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(default=0)
    modified_at: Mapped[dt.datetime]


class ScheduleRunStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ScheduleRun(Timestamped, Base):
    """A large schedule plan applied in the background: the plan, its progress and its outcome."""

    __tablename__ = "schedule_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    plan: Mapped[dict[str, Any]]
    status: Mapped[ScheduleRunStatus] = mapped_column(enum_column(ScheduleRunStatus),
                                                      default=ScheduleRunStatus.PENDING)
    progress: Mapped[int] = mapped_column(default=0, server_default=text("0"))  # percent
    planned_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    existing_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    conflicts: Mapped[dict[str, Any] | None]  # {"items": [...]} as the API reports them
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[dt.datetime | None]


class FeedKind(StrEnum):
    FACILITATOR = "facilitator"
    COHORT = "cohort"
    ROOM = "room"


class CalendarFeedToken(Timestamped, Base):
    """An iCalendar subscription URL's secret. Only its sha256 is stored; revoking ends the feed."""

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FeedKind] = mapped_column(enum_column(FeedKind))
    subject_id: Mapped[int]  # the facilitator's user id, the cohort id or the room id
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
