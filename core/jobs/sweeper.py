"""The sweeper (beat, every minute): nothing waits for the broker's visibility timeout, nothing is lost.

1. A RUNNING job whose heartbeat is older than `stale_after` lost its worker (SIGKILL, OOM, a machine
   gone): it goes back to the outbox, or ends FAILED once it has used its attempts.
2. A QUEUED job sent more than `lost_after` ago whose queue on the broker holds fewer messages than
   the jobs waiting on it lost its message (a broker restarted without persistence): it goes back to
   the outbox. When the broker cannot say how many messages it holds, only jobs waiting ten times
   longer are sent again.
3. The outbox (QUEUED, never sent: the broker was down, or the process died right after commit) is sent.

Sending twice is safe: a delivery claims its job first and skips one that finished or is running.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import clock
from core.models import Job, JobStatus

from . import store
from .outbox import QueueDepths, broker, publish
from .registry import kind_named
from .runner import give_up

log = logging.getLogger(__name__)

OUTBOX_GRACE = dt.timedelta(seconds=2)  # leave a just-committed job to the after-commit send
OUTBOX_BATCH = 500


@dataclass(frozen=True)
class SweepSettings:
    stale_after: dt.timedelta
    lost_after: dt.timedelta


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)   # stale RUNNING jobs put back in the outbox
    gave_up: list[int] = field(default_factory=list)    # stale jobs out of attempts: FAILED
    resent: list[int] = field(default_factory=list)     # QUEUED jobs whose message was lost
    published: int = 0
    unpublished: int = 0                                # still in the outbox (broker down)

    def as_dict(self) -> dict[str, object]:
        return {"requeued": self.requeued, "gave_up": self.gave_up, "resent": self.resent,
                "published": self.published, "unpublished": self.unpublished}


def sweep(session: Session, settings: SweepSettings, queue_depths: QueueDepths | None = None) -> SweepReport:
    report = SweepReport()
    if not store.sweep_lock(session):
        session.rollback()
        return report  # another sweep is running
    now = clock.now()
    _rescue_stale(session, now - settings.stale_after, report)
    _resend_lost(session, now, settings.lost_after, queue_depths or broker.queue_depths, report)
    session.commit()
    _send_outbox(session, now - OUTBOX_GRACE, report)
    if report.requeued or report.gave_up or report.resent or report.published:
        log.info("sweep: %s", report.as_dict())
    return report


def _rescue_stale(session: Session, deadline: dt.datetime, report: SweepReport) -> None:
    stale = session.scalars(
        select(Job).where(Job.status == JobStatus.RUNNING, Job.heartbeat_at < deadline)
        .order_by(Job.id).with_for_update(skip_locked=True)
    ).all()
    for job in stale:
        job.claimed_by = None
        if job.attempts >= job.max_attempts:
            job.status, job.finished_at = JobStatus.FAILED, clock.now()
            job.last_error = f"The worker stopped {job.attempts} times without finishing this job."
            give_up(session, kind_named(job.kind), job.entity_id,
                    f"This stopped {job.attempts} times without finishing (the worker was lost each time). "
                    "Nothing was half-done; use Retry once the cause is fixed.")
            report.gave_up.append(job.id)
        else:
            job.status, job.sent_at, job.rescued_at = JobStatus.QUEUED, None, clock.now()
            job.last_error = "The worker stopped while running this job; it was queued again."
            report.requeued.append(job.id)


def _resend_lost(session: Session, now: dt.datetime, lost_after: dt.timedelta, queue_depths: QueueDepths | None,
                 report: SweepReport) -> None:
    waiting = session.scalars(
        select(Job).where(Job.status == JobStatus.QUEUED, Job.sent_at.is_not(None), Job.sent_at < now - lost_after)
        .order_by(Job.id).with_for_update(skip_locked=True)
    ).all()
    if not waiting:
        return
    by_queue: dict[str, list[Job]] = defaultdict(list)
    for job in waiting:
        by_queue[job.queue].append(job)
    try:
        depths = queue_depths(by_queue) if queue_depths else None
    except Exception as exc:
        log.warning("could not read the queue depths: %s", exc)
        depths = None
    for queue, jobs in by_queue.items():
        depth = None if depths is None else depths.get(queue)
        if depth is None:
            lost = [j for j in jobs if j.sent_at is not None and j.sent_at < now - 10 * lost_after]
        else:
            lost = jobs if depth < len(jobs) else []
        for job in lost:
            job.sent_at = None
            report.resent.append(job.id)


def _send_outbox(session: Session, before: dt.datetime, report: SweepReport) -> None:
    engine = session.get_bind()
    pending = session.execute(
        select(Job.id, Job.kind, Job.entity_id, Job.queue)
        .where(Job.status == JobStatus.QUEUED, Job.sent_at.is_(None),
               or_(Job.created_at < before, Job.id.in_(report.requeued + report.resent)))
        .order_by(Job.id).limit(OUTBOX_BATCH)
    ).all()
    session.rollback()  # no transaction held open while talking to the broker
    for i, job in enumerate(pending):
        if not publish(engine, job.id, job.kind, job.entity_id, job.queue):  # type: ignore[arg-type]
            report.unpublished = len(pending) - i
            return  # the broker is still down: try again next sweep
        report.published += 1
