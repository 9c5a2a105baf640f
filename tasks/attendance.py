"""Celery tasks for attendance: the nightly lock."""

from __future__ import annotations

from core.attendance.jobs import LOCK_PAST_SESSIONS
from core.attendance.locking import lock_past_sessions as lock_past
from tasks import db_session, setting
from tasks.policy import job_task


@job_task(LOCK_PAST_SESSIONS)
def lock_past_sessions() -> dict[str, int]:
    """Lock every session past its grace period. Idempotent: a second run (or a redelivery) locks nothing."""
    ids = lock_past(db_session(), grace_hours=int(setting("LOCK_GRACE_HOURS")))
    return {"locked": len(ids)}
