"""Celery tasks for self check-in: unmarked learners absent once check-in closes (when the institution asks)."""

from __future__ import annotations

from core.checkin.jobs import MARK_UNMARKED_AT_CLOSE
from core.checkin.service import mark_unmarked_at_close as mark_unmarked
from tasks import db_session, setting
from tasks.policy import job_task


@job_task(MARK_UNMARKED_AT_CLOSE)
def mark_unmarked_at_close() -> dict[str, int]:
    """Every check-in closed since the last run: unmarked learners ABSENT (source auto). Idempotent: a second run
    (or a redelivery) writes nothing."""
    return mark_unmarked(db_session(), grace_hours=int(setting("LOCK_GRACE_HOURS")))
