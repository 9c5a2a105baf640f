"""Learners' apologies in advance (issue 21): one apology covers one or more future sessions; approving it
makes each of those sessions EXCUSED for the learner (through the marking service, so every mark is audited)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped
from .enums import ApologyStatus, enum_column

apology_sessions = Table(
    "apology_sessions",
    Base.metadata,
    Column("apology_id", Integer, ForeignKey("apologies.id", ondelete="CASCADE"), primary_key=True),
    Column("session_id", Integer, ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Apology(Timestamped, Base):
    __tablename__ = "apologies"
    __table_args__ = (Index("ix_apologies_institution_status", "institution_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    # The learner's account (role learner) that sent it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence_file_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_files.id", ondelete="SET NULL"))
    status: Mapped[ApologyStatus] = mapped_column(enum_column(ApologyStatus), default=ApologyStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(500))
