"""Access that others are given: regulators' requests (read-only, ends by itself), what they read under
each grant, the mails that tell people about them, and grants to client organizations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, utcnow
from .enums import AccessRequestStatus, AccessScope, ReminderStatus, enum_column

access_request_cohorts = Table(
    "access_request_cohorts",
    Base.metadata,
    Column("access_request_id", Integer, ForeignKey("access_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AccessRequest(Timestamped, Base):
    """A regulator asks to read an institution's registers, or those of named cohorts; an admin decides.

    In force while APPROVED and `expires_at` is in the future: checked on every request, so access ends
    by itself at expiry with no job to run.
    """

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    regulator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    scope: Mapped[AccessScope] = mapped_column(enum_column(AccessScope), default=AccessScope.INSTITUTION)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[AccessRequestStatus] = mapped_column(
        enum_column(AccessRequestStatus), default=AccessRequestStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    cohorts = relationship("Cohort", secondary=access_request_cohorts, lazy="selectin", order_by="Cohort.name")
    regulator = relationship("User", foreign_keys=[regulator_id], lazy="joined")
    institution = relationship("Institution", lazy="joined")

    def in_force(self, now: dt.datetime) -> bool:
        return (self.status == AccessRequestStatus.APPROVED and self.expires_at is not None
                and self.expires_at > now)


class AccessRequestRead(Base):
    """One read a regulator made under a grant: what, when, which grant (and the cohort, when one)."""

    __tablename__ = "access_request_reads"
    __table_args__ = (Index("ix_access_request_reads_request_at", "access_request_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    access_request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id", ondelete="CASCADE"))
    regulator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    endpoint: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    resource_type: Mapped[str | None] = mapped_column(String(40))
    resource_id: Mapped[int | None]


class AccessRequestNotice(Base):
    """One mail about a request to one person; written with the change, delivered by a worker, never twice."""

    __tablename__ = "access_request_notices"
    __table_args__ = (UniqueConstraint("access_request_id", "event", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    access_request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))  # requested | approved | denied | revoked
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReminderStatus] = mapped_column(enum_column(ReminderStatus), default=ReminderStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OrganizationGrant(Base):
    """A permission an admin gave a client organization, e.g. `corporate_reports.view` (reports that
    name its own employees). Its members hold it only through this row."""

    __tablename__ = "organization_grants"
    __table_args__ = (UniqueConstraint("organization_id", "permission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(60))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
