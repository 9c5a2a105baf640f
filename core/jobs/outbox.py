"""Enqueueing through a transactional outbox: the job row is written in the caller's transaction and
handed to the broker after it commits. If the broker is down the request still succeeds; the row stays
in the outbox (sent_at NULL) and the sweeper sends it when the broker is back."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import clock
from core.db import after_commit
from core.errors import Conflict
from core.i18n import N_
from core.models import ACTIVE_JOB_STATUSES, Job, JobStatus

from .registry import JobKind

log = logging.getLogger(__name__)

# (task name, row id, queue) → None; raises when the broker cannot take the message.
Publisher = Callable[[str, int, str], None]
# {queue name: messages waiting} for the queues asked about, or None if the broker cannot tell.
QueueDepths = Callable[[Iterable[str]], dict[str, int] | None]


class _Broker:
    publish: Publisher | None = None
    queue_depths: QueueDepths | None = None


broker = _Broker()


def use_broker(publish: Publisher | None, queue_depths: QueueDepths | None = None) -> None:
    """Set once at start-up by tasks/broker.py (core does not import Celery)."""
    broker.publish, broker.queue_depths = publish, queue_depths


def enqueue(session: Session, kind: JobKind, entity_id: int) -> Job:
    """Record a job for `entity_id` in the current transaction; it is sent after commit.

    Idempotent: while a job of this kind for this row is queued or running, that job is returned."""
    active = session.scalar(select(Job).where(Job.kind == kind.name, Job.entity_id == entity_id,
                                              Job.status.in_(ACTIVE_JOB_STATUSES)))
    if active is not None:
        return active
    job = Job(kind=kind.name, entity_id=entity_id, queue=kind.queue, status=JobStatus.QUEUED, attempts=0,
              max_attempts=kind.max_attempts, created_at=clock.now())
    session.add(job)
    session.flush()
    after_commit(session, functools.partial(publish, session.get_bind(), job.id, kind.name, entity_id, kind.queue))
    return job


def publish(engine: Engine, job_id: int, name: str, entity_id: int, queue: str) -> bool:
    """Hand one job to the broker and note when. Never raises: a failure leaves it in the outbox."""
    if broker.publish is None:
        log.warning("no broker configured; job %s stays in the outbox", job_id)
        return False
    try:
        broker.publish(name, entity_id, queue)
    except Exception as exc:  # the broker is down or slow: the sweeper sends it later
        log.warning("job %s (%s %s) stays in the outbox: %s", job_id, name, entity_id, exc)
        return False
    try:
        with engine.begin() as connection:
            connection.execute(update(Job.__table__).where(Job.id == job_id, Job.sent_at.is_(None))
                               .values(sent_at=clock.now()))
    except Exception as exc:  # sent, but not noted: at worst the sweeper sends it again (tasks are idempotent)
        log.warning("job %s was sent but its sent_at was not recorded: %s", job_id, exc)
    return True


def latest_job(session: Session, kinds: Sequence[str], entity_id: int) -> Job | None:
    return session.scalar(select(Job).where(Job.kind.in_(kinds), Job.entity_id == entity_id)
                          .order_by(Job.id.desc()).limit(1))


def retry(session: Session, kind: JobKind, entity_id: int) -> Job:
    """Run a FAILED job again: the kind puts its row back in its starting state, then a new job is queued."""
    latest = latest_job(session, [kind.name], entity_id)
    if latest is not None and latest.status in ACTIVE_JOB_STATUSES:
        raise Conflict(N_("This work is already queued or running."), code="job_active")
    if kind.on_retry is not None:
        kind.on_retry(session, entity_id)
    return enqueue(session, kind, entity_id)
