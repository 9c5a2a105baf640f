"""Enqueueing through a transactional outbox: the job row is written in the caller's transaction and
handed to the broker after it commits. If the broker is down the request still succeeds; the row stays
in the outbox (sent_at NULL) and the sweeper sends it when the broker is back.

No request waits on the broker: after commit the job is handed to the process's relay thread, and the
request waits for it at most PUBLISH_WAIT_SECONDS. A broker that hangs (accepts the connection, never
answers) costs the request that bound, once: while the relay is stuck on it, later jobs are not even
handed over; their rows wait in the outbox for the sweeper (the relay of last resort)."""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import queue
import threading
import time
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
PUBLISH_WAIT_SECONDS = 0.5


def use_broker(publish: Publisher | None, queue_depths: QueueDepths | None = None) -> None:
    """Set once at start-up by tasks/broker.py (core does not import Celery)."""
    broker.publish, broker.queue_depths = publish, queue_depths


class Relay:
    """One thread per process hands jobs to the broker, one at a time; callers wait for it a bounded time."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], object], threading.Event]] = queue.Queue(maxsize=1000)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._busy_since: float | None = None
        self._lock = threading.Lock()

    def send(self, work: Callable[[], object], wait: float) -> bool:
        """Run `work` on the relay thread; True if it finished within `wait` seconds. A relay stuck on a hung
        broker takes nothing more (False at once): the outbox keeps the job for the sweeper."""
        self._ensure_running()
        busy = self._busy_since
        if busy is not None and time.monotonic() - busy > max(wait, PUBLISH_WAIT_SECONDS):
            return False
        done = threading.Event()
        try:
            self._jobs.put_nowait((work, done))
        except queue.Full:
            return False
        return done.wait(wait)

    def _ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._jobs = queue.Queue(maxsize=1000)  # after a fork: the parent's thread is not ours
                self._busy_since, self._pid = None, os.getpid()
                self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            work, done = self._jobs.get()
            self._busy_since = time.monotonic()
            try:
                work()
            except Exception:  # publish() never raises; anything else is logged, the row stays in the outbox
                log.exception("outbox relay")
            finally:
                self._busy_since = None
                done.set()


RELAY = Relay()


def send_bounded(work: Callable[[], object], wait: float = PUBLISH_WAIT_SECONDS) -> bool:
    """Run `work` (a publish) on the relay thread, in the caller's context; True if it ended within `wait`."""
    return RELAY.send(functools.partial(contextvars.copy_context().run, work), wait)


def _publish_soon(engine: Engine, job_id: int, name: str, entity_id: int, queue_name: str,
                  wait: float = PUBLISH_WAIT_SECONDS) -> None:
    """After commit: hand the job to the relay thread and wait for it at most `wait` seconds. The relay runs it
    in the caller's context (contextvars): the publisher sees the caller's application and broker."""
    context = contextvars.copy_context()
    RELAY.send(functools.partial(context.run, publish, engine, job_id, name, entity_id, queue_name), wait)


def enqueue(session: Session, kind: JobKind, entity_id: int, *, wait: bool = True) -> Job:
    """Record a job for `entity_id` in the current transaction; it is sent after commit.

    `wait=False`: the request hands the job to the relay and answers without waiting for the broker (the row is
    in the outbox either way; where many requests publish at once, e.g. invoices issued together, they no longer
    queue behind each other's publish). Idempotent: while a job of this kind for this row is queued or running,
    that job is returned."""
    active = session.scalar(select(Job).where(Job.kind == kind.name, Job.entity_id == entity_id,
                                              Job.status.in_(ACTIVE_JOB_STATUSES)))
    if active is not None:
        return active
    job = Job(kind=kind.name, entity_id=entity_id, queue=kind.queue, status=JobStatus.QUEUED, attempts=0,
              max_attempts=kind.max_attempts, created_at=clock.now())
    session.add(job)
    session.flush()
    after_commit(session, functools.partial(_publish_soon, session.get_bind(), job.id, kind.name, entity_id,
                                            kind.queue, PUBLISH_WAIT_SECONDS if wait else 0.0))
    return job


def publish(engine: Engine, job_id: int, name: str, entity_id: int, queue: str) -> bool:
    """Hand one job to the broker and note when. Never raises: a failure leaves it in the outbox."""
    publisher = broker.publish
    if publisher is None:
        log.warning("no broker configured; job %s stays in the outbox", job_id)
        return False
    try:
        publisher(name, entity_id, queue)
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
