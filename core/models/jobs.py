"""Background jobs (the outbox and the run record of every long task) and the workers' heartbeats."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .enums import enum_column


class JobStatus(StrEnum):
    QUEUED = "QUEUED"        # waiting: in the outbox (sent_at NULL) or on the broker
    RUNNING = "RUNNING"      # a worker claimed it and beats its heartbeat
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"        # gave up: the error is on the job and on the domain row


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(Base):
    """One unit of background work on one domain row: `kind` is the task name, `entity_id` its argument."""

    __tablename__ = "jobs"
    __table_args__ = (
        # At most one live job per (kind, row): enqueueing twice is a no-op, a retry makes a new one.
        Index("uq_jobs_active_kind_entity", "kind", "entity_id", unique=True,
              postgresql_where=text("status IN ('QUEUED', 'RUNNING')"),
              sqlite_where=text("status IN ('QUEUED', 'RUNNING')")),
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_kind_entity_id", "kind", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[int]
    queue: Mapped[str] = mapped_column(String(40))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]        # NULL: in the outbox, not yet handed to the broker
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # worker host, pid and a per-claim token
    last_error: Mapped[str | None] = mapped_column(Text)
    rescued_at: Mapped[dt.datetime | None]     # the sweeper brought it back after its worker died
    reported_at: Mapped[dt.datetime | None]    # its trouble (FAILED, or rescued) was mailed to the admins


class WorkerHeartbeat(Base):
    """A worker process says it is alive every few seconds (works on every broker, the SQLite one too)."""

    __tablename__ = "worker_heartbeats"

    hostname: Mapped[str] = mapped_column(String(200), primary_key=True)
    queues: Mapped[str] = mapped_column(String(200))  # comma-separated
    pid: Mapped[int]
    started_at: Mapped[dt.datetime]
    seen_at: Mapped[dt.datetime]
