"""Who changed what, and which reminders went out (so none goes out twice)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .enums import ReminderStatus, enum_column


class AuditEvent(Base):
    """No foreign key on `actor_id` (its check ran once per event, 500 times in a bulk mark): a trigger on users
    forgets a deleted user's id here, as ON DELETE SET NULL did (migration 0015).

    Hash-chained per institution (core/audit_trail/chain.py says how): a database trigger gives every inserted
    row its `seq`, `prev_hash` and `row_hash` in the inserting transaction (migration 0025), whoever writes it.
    `institution_id` is the chain the row belongs to (NULL: the platform's chain, e.g. the nightly lock sweep
    over every institution); no foreign key, for the same reason as `actor_id`."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),
                      Index("uq_audit_events_chain_seq", "institution_id", "seq", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(60))  # e.g. attendance.mark, session.lock, import.commit
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[int]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    context: Mapped[dict[str, Any] | None]  # reason, request id, …
    institution_id: Mapped[int | None]
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class AuditChainHead(Base):
    """The last link of each chain (`chain_id`: the institution's id, 0 for the platform's chain). Appending
    locks this row FOR UPDATE in the inserting transaction, so two transactions never fork a chain."""

    __tablename__ = "audit_chain_heads"

    chain_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ReminderSent(Base):
    """Inserted before the mail goes out; the unique key makes a second send impossible."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("session_id", "recipient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus), default=ReminderStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class AtRiskNotice(Base):
    """One at-risk flag told to one cohort admin; inserted before the digest goes out."""

    __tablename__ = "at_risk_notices"
    __table_args__ = (UniqueConstraint("flag_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("at_risk_flags.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus), default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditChainAlert(Base):
    """One break of an audit chain told to one admin: inserted before the mail goes out (unique per break and
    recipient), so the nightly check mails each admin once per break however often it runs."""

    __tablename__ = "audit_chain_alerts"
    __table_args__ = (UniqueConstraint("chain_id", "break_key", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int]  # the institution's id; 0 for the platform's chain
    break_key: Mapped[str] = mapped_column(String(80))  # reason:seq:row id
    row_id: Mapped[int | None]
    seq: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus), default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
