"""Schedule runs as jobs (core.jobs): a large plan applied by a worker, with a failed state and a retry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import clock, jobs
from core.access.scoping import visible_cohort
from core.errors import Conflict, NotFound
from core.i18n import N_
from core.models import User
from core.models.sessions import ScheduleRun, ScheduleRunStatus
from core.uow import unit_of_work


def run_failed(session: Session, run_id: int, message: str, conflicts: list[dict[str, Any]] | None = None) -> None:
    """The run ended without applying its plan (a refusal, with the clashes that caused it, or the job gave up):
    FAILED with the message people see. The one failed state of a run (kind APPLY_PLAN's hook)."""
    jobs.move_row(session, ScheduleRun, run_id, (ScheduleRunStatus.PENDING, ScheduleRunStatus.RUNNING),
                  status=ScheduleRunStatus.FAILED, error=message, finished_at=clock.now(),
                  conflicts={"items": conflicts or []})


def _back_to_pending(session: Session, run_id: int) -> None:
    if not jobs.move_row(session, ScheduleRun, run_id, (ScheduleRunStatus.FAILED,), status=ScheduleRunStatus.PENDING,
                         error=None, finished_at=None, progress=0):
        raise Conflict(N_("Only a failed schedule run can be run again."), code="run_not_failed")


APPLY_PLAN = jobs.register(jobs.JobKind("scheduling.apply_plan", queue=jobs.DEFAULT, backoff=jobs.Backoff(cap=300),
                                        on_fail=run_failed, on_retry=_back_to_pending))


def retry_run(session: Session, user: User, run_id: int) -> ScheduleRun:
    """Apply a FAILED run's plan again (sessions it already created are found, not doubled)."""
    with unit_of_work(session):
        run = session.get(ScheduleRun, run_id)
        if run is None:
            raise NotFound(N_("No such schedule run."))
        visible_cohort(session, user, run.cohort_id, "sessions.manage")
        jobs.retry(session, APPLY_PLAN, run.id)
    session.refresh(run)
    return run
