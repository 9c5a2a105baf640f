"""Self check-in (issue 21): a session's check-in window, the institution's anti-sharing settings, and every
attempt (accepted or refused) — codes themselves are derived, never stored (core.checkin.codes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class CheckInWindow(Base):
    """Check-in on one session: open from `opened_at` until `closes_at` (or until closed by hand: `closed_at`).
    `closed_job_at`: when the unmarked-at-close job ran for it (null: not yet)."""

    __tablename__ = "check_in_windows"
    __table_args__ = (Index("ix_check_in_windows_closes_at", "closes_at"),)

    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False)
    opened_at: Mapped[dt.datetime]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closes_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    closed_job_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CheckInSettings(Base):
    """An institution's anti-sharing rules, each off by default (no row: all off)."""

    __tablename__ = "check_in_settings"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True,
                                                autoincrement=False)
    one_device: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    networks: Mapped[dict[str, Any] | None]  # {"cidrs": ["10.0.0.0/8", …]}; null or empty: any network
    geofence_lat: Mapped[float | None] = mapped_column(Float)
    geofence_lon: Mapped[float | None] = mapped_column(Float)
    geofence_radius_m: Mapped[int | None]
    absent_at_close: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CheckInAttempt(Base):
    """One check-in attempt on one session, accepted or refused (`reason`: the refusal's code). An accepted one
    names the member checked in (`member_type`, `member_id`) and the device it came from: at most one accepted
    attempt per member and session (the partial unique index), which is what makes a resent check-in harmless."""

    __tablename__ = "check_in_attempts"
    __table_args__ = (
        Index("ix_check_in_attempts_session_at", "session_id", "at"),
        Index("uq_check_in_attempts_accepted_member", "session_id", "member_type", "member_id", unique=True,
              postgresql_where=text("accepted"), sqlite_where=text("accepted")),
        Index("ix_check_in_attempts_session_device", "session_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    member_type: Mapped[str | None] = mapped_column(String(20))
    member_id: Mapped[int | None]
    device_id: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    accepted: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(60))
    flagged: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
