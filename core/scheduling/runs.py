"""Runs: a plan too large to apply inline is recorded, then applied by a worker, progress on its row.

`execute_run` is idempotent: a finished run is left alone, and a redelivered run finds its sessions
already scheduled, so nothing is created twice.
"""

from __future__ import annotations

from pydantic import ValidationError as CommandInvalid
from sqlalchemy.orm import Session

from core import clock, jobs
from core.access.scoping import visible_cohort
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.models import Cohort, User
from core.models.sessions import ScheduleRun, ScheduleRunStatus
from core.uow import unit_of_work

from . import store
from .apply import in_one_transaction, write_sessions
from .commands import SchedulePlan
from .jobs import APPLY_PLAN, run_failed
from .plan import plan_for_cohort

FINISHED = (ScheduleRunStatus.SUCCEEDED, ScheduleRunStatus.FAILED)


def start_run(session: Session, user: User, cohort_id: int, command: SchedulePlan) -> ScheduleRun:
    """Record a large plan to apply in the background (a core.jobs job, sent after commit)."""
    with unit_of_work(session):
        cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
        pv = plan_for_cohort(session, cohort, command)  # validate now: a bad plan is a 422 here, not a failed run
        run = ScheduleRun(institution_id=cohort.institution_id, cohort_id=cohort.id, requested_by_id=user.id,
                          plan=command.stored(), status=ScheduleRunStatus.PENDING,
                          planned_count=pv.result.planned_count)
        session.add(run)
        session.flush()
        jobs.enqueue(session, APPLY_PLAN, run.id)
    return run


def get_run(session: Session, user: User, run_id: int) -> ScheduleRun:
    run = session.get(ScheduleRun, run_id)
    if run is None:
        raise NotFound(N_("No such schedule run."))
    visible_cohort(session, user, run.cohort_id, "sessions.manage")
    return run


def execute_run(session: Session, run_id: int) -> ScheduleRun:
    """Apply a recorded plan; the outcome (created, clashes skipped, or why it failed) goes on the run."""
    with unit_of_work(session):
        run = session.get(ScheduleRun, run_id)
        if run is None:
            raise NotFound(N_("No such schedule run %(id)s."), params={"id": run_id})
        if run.status in FINISHED:
            return run
        run.status, run.progress = ScheduleRunStatus.RUNNING, 5
    try:
        cohort = session.get(Cohort, run.cohort_id)
        if cohort is None:
            raise NotFound(N_("The cohort is gone."))
        pv = plan_for_cohort(session, cohort, SchedulePlan.model_validate(run.plan))
        store.report_progress(session, run_id, 30)

        def write_and_finish() -> None:
            ids = write_sessions(session, run.requested_by_id, pv, progress=lambda done, total: store.report_progress(
                session, run_id, 30 + 65 * done // max(total, 1)))
            run.status, run.progress, run.finished_at = ScheduleRunStatus.SUCCEEDED, 100, clock.now()
            run.created_count, run.existing_count = len(ids), len(pv.result.already_scheduled)
            run.planned_count = pv.result.planned_count
            run.conflicts = {"items": [c.as_record() for c in pv.clashes(session)]}

        in_one_transaction(session, pv.result.to_create, pv.zone, write_and_finish)
    except DomainError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        with unit_of_work(session):  # the failed attempt's own unit already rolled its writes back
            run_failed(session, run_id, exc.message, details.get("conflicts", []))
    except CommandInvalid:
        with unit_of_work(session):
            run_failed(session, run_id, N_("The recorded plan is no longer valid."))
    return session.get(ScheduleRun, run_id) or run
