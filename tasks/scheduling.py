"""Celery tasks for scheduling: apply a large plan in the background."""

from __future__ import annotations

import logging

from celery import shared_task
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from core.scheduling.service import execute_run
from tasks import db_session

log = logging.getLogger(__name__)


@shared_task(name="scheduling.apply_plan", bind=True, autoretry_for=(OperationalError, RedisConnectionError),
             retry_backoff=True, retry_backoff_max=300, max_retries=5)
def apply_plan(self, run_id: int) -> dict[str, object]:
    """Apply schedule run `run_id`; progress and outcome (created, conflicts, error) go on its row."""
    session = db_session()
    try:
        run = execute_run(session, run_id)
        log.info("schedule run %s: %s, %s created", run_id, run.status.value, run.created_count)
        return {"run_id": run_id, "status": run.status.value, "created": run.created_count}
    except Exception:
        session.rollback()
        raise
