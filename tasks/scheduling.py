"""Celery tasks for scheduling: apply a large plan in the background."""

from __future__ import annotations

import logging

from core.scheduling.jobs import APPLY_PLAN
from core.scheduling.runs import execute_run
from tasks import db_session
from tasks.policy import job_task

log = logging.getLogger(__name__)


@job_task(APPLY_PLAN)
def apply_plan(run_id: int) -> dict[str, object]:
    """Apply schedule run `run_id`; progress and outcome (created, conflicts, error) go on its row."""
    run = execute_run(db_session(), run_id)
    log.info("schedule run %s: %s, %s created", run_id, run.status.value, run.created_count)
    return {"run_id": run_id, "status": run.status.value, "created": run.created_count}
