"""At-risk levels (issue 24): each active trainee's current level, the history of its changes, and the notices
each change owes (one row per change and recipient, inserted before the mail goes out)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .enums import ReminderStatus, enum_column

LEVELS = ("ok", "watch", "at_risk", "cannot_reach")


class AtRiskLevel(Base):
    """The latest computed standing of one trainee (`member_type` "enrolment" or "corporate_trainee")."""

    __tablename__ = "at_risk_levels"
    __table_args__ = (
        UniqueConstraint("member_type", "member_id"),
        Index("ix_at_risk_levels_cohort_level", "cohort_id", "level"),
        Index("ix_at_risk_levels_level_margin", "level", "margin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    member_type: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int]
    level: Mapped[str] = mapped_column(String(16))
    rate: Mapped[float | None] = mapped_column(Float)              # percent so far; NULL before any counted mark
    required_rate: Mapped[float] = mapped_column(Float)
    best_reachable_rate: Mapped[float | None] = mapped_column(Float)
    margin: Mapped[int]                                            # sessions that may still be missed
    consecutive_absences: Mapped[int]
    absence_limit: Mapped[int]
    attended: Mapped[int]
    counted: Mapped[int]
    remaining: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(60))
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AtRiskLevelChange(Base):
    """One change of a trainee's level, with its date and reason; the notices hang off it."""

    __tablename__ = "at_risk_level_changes"
    __table_args__ = (Index("ix_at_risk_level_changes_member", "member_type", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    member_type: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int]
    from_level: Mapped[str] = mapped_column(String(16))
    to_level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(60))
    rate: Mapped[float | None] = mapped_column(Float)
    margin: Mapped[int]
    changed_on: Mapped[dt.date]
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[dt.datetime | None]                        # notices planned (set once, by the worker)


class AtRiskLevelNotice(Base):
    """One level change told to one address. Unique per (change, address): a retry or a crash never mails twice."""

    __tablename__ = "at_risk_level_notices"
    __table_args__ = (UniqueConstraint("change_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("at_risk_level_changes.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(20))  # learner | facilitator | cohort_admin | org_contact
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus), default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
