"""The worker side of a job: claim it, beat its heartbeat while the task runs, record how it ended.

tasks.policy.job_task applies these to every task of a kind, so a task author writes no heartbeat code:
a thread beats while the task runs, whatever it does.

Ownership dies with its holder (store.Ownership): on PostgreSQL the running task holds a session advisory
lock on its job. A pool child killed by SIGKILL loses it with its connections; Celery re-delivers the message
at once (acks_late, reject_on_worker_lost) and the claim takes the job over, though its heartbeat is still
fresh. A delivery that finds the lock held skips: the job never runs twice at once. Without the lock (SQLite)
a fresh heartbeat means a live holder, and the sweeper brings back a job whose heartbeat went stale.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core import clock
from core.models import Job, JobStatus

from .registry import JobKind
from .store import Ownership

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """What a delivery of a task may do: run tracked (job_id set), run untracked (no job row), or skip.
    `ownership` holds the job's lock while the task runs (release it when the task ends: `release`)."""

    job_id: int | None
    token: str | None
    skip: bool = False
    attempt: int = 0
    ownership: Ownership | None = None
    taken_over: bool = False  # the previous holder died while running it (its lock was free)

    def release(self) -> None:
        if self.ownership is not None:
            self.ownership.release()


def claim(engine: Engine, kind: JobKind, entity_id: int, *, worker: str, stale_after: dt.timedelta) -> Claim:
    """Take the job for this delivery, with a compare-and-set (safe on PostgreSQL and SQLite alike).

    Skips a duplicate delivery: the job finished already, or a live holder runs it (it holds the job's lock;
    without locks, its heartbeat is fresh)."""
    token = f"{worker}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]
    with engine.connect() as connection:
        job = connection.execute(
            select(Job.id, Job.status, Job.heartbeat_at, Job.attempts, Job.max_attempts, Job.claimed_by)
            .where(Job.kind == kind.name, Job.entity_id == entity_id).order_by(Job.id.desc()).limit(1)
        ).first()
    if job is None:
        return Claim(None, None)  # sent without a job (by hand, or by older code): run it untracked
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) or job.attempts >= job.max_attempts:
        return Claim(job.id, None, skip=True)
    ownership = Ownership(engine, job.id)
    if ownership.held is False:
        return Claim(job.id, None, skip=True)  # its holder lives
    try:
        taken = _take(engine, job, token, stale_after, locked=ownership.held is True)
    except BaseException:
        ownership.release()
        raise
    if not taken:
        ownership.release()
        return Claim(job.id, None, skip=True)
    return Claim(job.id, token, attempt=job.attempts + 1, ownership=ownership,
                 taken_over=job.status == JobStatus.RUNNING)


def _take(engine: Engine, job: Any, token: str, stale_after: dt.timedelta, *, locked: bool) -> bool:
    now = clock.now()
    fresh = job.heartbeat_at is not None and job.heartbeat_at >= now - stale_after
    if job.status == JobStatus.RUNNING and fresh and not locked:
        return False  # no lock to ask (SQLite): a fresh heartbeat means a live holder
    with engine.begin() as connection:
        return bool(connection.execute(
            update(Job.__table__)
            .where(Job.id == job.id, Job.status == job.status, _same(Job.claimed_by, job.claimed_by))
            .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, started_at=now, heartbeat_at=now,
                    claimed_by=token, finished_at=None)
        ).rowcount)


def _same(column: object, value: str | None) -> object:
    return column.is_(None) if value is None else column == value  # type: ignore[attr-defined]


class Heartbeat:
    """A daemon thread that stamps the job's heartbeat every `every` seconds on its own connection."""

    def __init__(self, engine: Engine, job_id: int, token: str, every: float) -> None:
        self.engine, self.job_id, self.token, self.every = engine, job_id, token, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    _mine(connection, self.job_id, self.token, heartbeat_at=clock.now())
            except Exception as exc:  # a missed beat is not fatal; several in a row let the sweeper step in
                log.warning("heartbeat of job %s failed: %s", self.job_id, exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)


def _mine(connection: Connection, job_id: int, token: str, **values: object) -> bool:
    """Update the job only while this claim still holds it (a reclaimed job is no longer ours)."""
    return bool(connection.execute(
        update(Job.__table__).where(Job.id == job_id, Job.claimed_by == token, Job.status == JobStatus.RUNNING)
        .values(**values)
    ).rowcount)


def give_up(session: Session, kind: JobKind | None, entity_id: int, message: str) -> None:
    """Put the domain row in its failed state (the kind says how); part of the caller's transaction."""
    if kind is not None and kind.on_fail is not None:
        kind.on_fail(session, entity_id, message)


@contextmanager
def beating(engine: Engine, claim: Claim | None, every: float) -> Iterator[None]:
    """A heartbeat while the block runs (none for an untracked run)."""
    if claim is None or claim.token is None or claim.job_id is None:
        yield
        return
    beat = Heartbeat(engine, claim.job_id, claim.token, every)
    try:
        yield
    finally:
        beat.stop()  # on a worker shutdown the job stays RUNNING: its stale heartbeat brings it back


def succeeded(engine: Engine, claim: Claim | None) -> None:
    if claim is not None and claim.token is not None and claim.job_id is not None:
        with engine.begin() as connection:
            _mine(connection, claim.job_id, claim.token, status=JobStatus.SUCCEEDED, finished_at=clock.now())


def requeue(engine: Engine, claim: Claim | None, when: dt.datetime, error: str) -> None:
    """The task runs again at `when` (a Celery retry): QUEUED, noted as sent then, so the sweeper does not
    send it a second time meanwhile."""
    if claim is not None and claim.token is not None and claim.job_id is not None:
        with engine.begin() as connection:
            _mine(connection, claim.job_id, claim.token, status=JobStatus.QUEUED, sent_at=when, claimed_by=None,
                  last_error=error[:2000])


def end(engine: Engine, kind: JobKind, entity_id: int | None, claim: Claim | None, message: str, *,
        error: str | None = None) -> None:
    """The row says `message` (kind.on_fail), and the job ends: FAILED with `error`, or SUCCEEDED without
    (a refusal is the task's answer). One transaction; a job no longer ours is left to its new holder."""
    tracked = claim is not None and claim.token is not None and claim.job_id is not None
    with Session(engine) as session, session.begin():
        if tracked:
            assert claim is not None and claim.job_id is not None and claim.token is not None
            values: dict[str, object] = {"status": JobStatus.SUCCEEDED, "finished_at": clock.now()}
            if error is not None:
                values.update(status=JobStatus.FAILED, last_error=error[:2000])
            if not _mine(session.connection(), claim.job_id, claim.token, **values):
                return
        if entity_id is not None:
            give_up(session, kind, entity_id, message)
