"""What people and probes see of jobs: "queued 3 minutes ago, waiting for a worker", live workers, queue age."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import clock
from core.i18n import N_, Np_, Said
from core.models import Job, JobStatus, WorkerHeartbeat

from .outbox import latest_job
from .store import record_worker  # noqa: F401  (a worker's heartbeat row: workers.signals)

WAITING_AFTER = dt.timedelta(seconds=5)  # a job queued longer than this is "waiting for a worker"


def how_long(delta: dt.timedelta) -> dt.timedelta:
    """The delay rounded down to its largest whole unit (90 s: one minute), as "3 minutes" says it."""
    seconds = max(int(delta.total_seconds()), 0)
    for size in (86400, 3600, 60):
        if seconds >= size:
            return dt.timedelta(seconds=seconds // size * size)
    return dt.timedelta(seconds=seconds)


Render = Callable[[Said], str]


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    queue: str
    status: str
    attempts: int
    max_attempts: int
    queued_at: dt.datetime
    waiting_for_worker: bool
    can_retry: bool
    parts: tuple[Said, ...]
    last_error: str | None

    @property
    def message(self) -> str:
        return self.said(str)

    def said(self, render: Render) -> str:
        """The status in words, each sentence rendered by `render` (the web layer: in the reader's language)."""
        return " ".join(render(part) for part in self.parts)

    def as_json(self, render: Render = str) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "queue": self.queue, "status": self.status,
                "attempts": self.attempts, "max_attempts": self.max_attempts,
                "queued_at": self.queued_at.isoformat(), "waiting_for_worker": self.waiting_for_worker,
                "can_retry": self.can_retry, "message": self.said(render)}


def describe(session: Session, kinds: Sequence[str], entity_id: int) -> JobView | None:
    """The latest job of these kinds on this row, in words."""
    job = latest_job(session, kinds, entity_id)
    if job is None:
        return None
    now = clock.now()
    waiting = job.status == JobStatus.QUEUED and now - job.created_at >= WAITING_AFTER
    parts: list[Said] = []
    if job.status == JobStatus.QUEUED:
        if waiting:
            parts.append(Said(N_("Queued %(ago)s ago, waiting for a worker."), {"ago": how_long(now - job.created_at)}))
            if not workers_for(session, job.queue):
                parts.append(Said(N_("No worker is taking “%(queue)s” work right now."), {"queue": job.queue}))
        else:
            parts.append(Said(N_("Queued; a worker will start it in a moment.")))
        if job.attempts:
            parts.append(Said(N_("(attempt %(attempt)s of %(max)s)"),
                              {"attempt": job.attempts + 1, "max": job.max_attempts}))
    elif job.status == JobStatus.RUNNING:
        parts.append(Said(N_("Running.")) if job.attempts <= 1 else
                     Said(N_("Running again (attempt %(attempt)s of %(max)s)."),
                          {"attempt": job.attempts, "max": job.max_attempts}))
    elif job.status == JobStatus.FAILED:
        singular, plural = Np_("Stopped after %(num)s attempt.", "Stopped after %(num)s attempts.")
        parts.append(Said(singular, {"num": job.attempts}, plural))
    else:
        parts.append(Said(N_("Done.")))
    return JobView(id=job.id, kind=job.kind, queue=job.queue, status=job.status.value, attempts=job.attempts,
                   max_attempts=job.max_attempts, queued_at=job.created_at, waiting_for_worker=waiting,
                   can_retry=job.status == JobStatus.FAILED, parts=tuple(parts), last_error=job.last_error)


# ---------------------------------------------------------------- workers


LIVE_WITHIN = dt.timedelta(seconds=60)


def forget_worker(engine: Engine, hostname: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(WorkerHeartbeat.__table__).where(WorkerHeartbeat.hostname == hostname[:200]))


def live_workers(session: Session, within: dt.timedelta = LIVE_WITHIN) -> list[WorkerHeartbeat]:
    return list(session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.seen_at >= clock.now() - within)
                                .order_by(WorkerHeartbeat.hostname)))


def workers_for(session: Session, queue: str, within: dt.timedelta = LIVE_WITHIN) -> list[WorkerHeartbeat]:
    return [w for w in live_workers(session, within) if queue in w.queues.split(",")]


def oldest_queued(session: Session) -> dict[str, float]:
    """Seconds the oldest QUEUED job of each queue has waited."""
    now = clock.now()
    rows = session.execute(select(Job.queue, func.min(Job.created_at)).where(Job.status == JobStatus.QUEUED)
                           .group_by(Job.queue)).all()
    return {queue: (now - _aware(oldest)).total_seconds() for queue, oldest in rows if oldest is not None}


def _aware(value: dt.datetime | str) -> dt.datetime:
    # min() over a UTC column comes back naive (or as text) on SQLite: the type decorator is not applied.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def trouble(session: Session, stale_after: dt.timedelta, within: dt.timedelta = dt.timedelta(days=1)) -> dict[str, int]:
    """Jobs people should hear of: RUNNING with a heartbeat older than `stale_after` (stuck: the sweeper owes them
    a rescue), and FAILED within `within` (they used their attempts)."""
    now = clock.now()
    stuck = session.scalar(select(func.count()).select_from(Job).where(
        Job.status == JobStatus.RUNNING, Job.heartbeat_at < now - stale_after)) or 0
    failed = session.scalar(select(func.count()).select_from(Job).where(
        Job.status == JobStatus.FAILED, Job.finished_at >= now - within)) or 0
    return {"stuck": int(stuck), "failed_last_day": int(failed)}
