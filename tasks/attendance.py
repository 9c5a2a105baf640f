"""Celery tasks for attendance: the nightly lock."""

from __future__ import annotations

from core.attendance.locking import lock_past_sessions as lock_past
from tasks import db_session, setting
from tasks.policy import policy_task


@policy_task("attendance.lock_past_sessions", max_retries=3, backoff_base=30)
def lock_past_sessions() -> dict[str, int]:
    """Lock every session past its grace period. Idempotent: a second run (or a redelivery) locks nothing."""
    ids = lock_past(db_session(), grace_hours=int(setting("LOCK_GRACE_HOURS")))
    return {"locked": len(ids)}
