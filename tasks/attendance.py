"""Celery tasks for attendance: the nightly lock."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.attendance.locking import lock_past_sessions as lock_past
from tasks import db_session, setting


@shared_task(name="attendance.lock_past_sessions", bind=True, acks_late=True, max_retries=3,
             autoretry_for=(OperationalError,), retry_backoff=30, retry_backoff_max=600)
def lock_past_sessions(self) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Lock every session past its grace period. Idempotent: a second run (or a redelivery) locks nothing."""
    ids = lock_past(db_session(), grace_hours=int(setting("LOCK_GRACE_HOURS")))
    return {"locked": len(ids)}
