"""Signatures on registers: sign-offs (a facilitator's of a session, a provider's of a cohort register or a
submission) and learners' own signatures on a session's register. Rows are written once and never changed
(a database trigger refuses UPDATE); a later sign-off supersedes an earlier one, a void one stays as it was."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SignOff(Base):
    """Who signed what, when, from which address, and the data version they saw. Void (shown, not stored)
    once the subject's current data version differs from `data_version`."""

    __tablename__ = "sign_offs"
    __table_args__ = (Index("ix_sign_offs_subject", "subject_type", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    subject_type: Mapped[str] = mapped_column(String(30))   # class_session | register_document | submission
    subject_id: Mapped[int]
    role: Mapped[str] = mapped_column(String(20))           # facilitator | provider
    full_name: Mapped[str] = mapped_column(String(200))
    signature: Mapped[str | None] = mapped_column(String(200))   # typed initials or a short statement
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    data_version: Mapped[str] = mapped_column(String(64))


class LearnerSignature(Base):
    """A learner's drawn signature on their own row of a session's register (a PNG on private storage)."""

    __tablename__ = "learner_signatures"
    __table_args__ = (UniqueConstraint("session_id", "member_type", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    member_type: Mapped[str] = mapped_column(String(20))    # enrolment | corporate_trainee
    member_id: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(64))
