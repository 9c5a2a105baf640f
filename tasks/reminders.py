"""Celery tasks for reminders: unmarked registers (facilitators) and at-risk digests (cohort admins).

A run records what is due, then mails each recipient; recipients whose SMTP delivery failed are retried
with exponential backoff by re-running the task, which never re-sends what already went out.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.reminders import service
from tasks import db_session, mail_settings, setting

log = logging.getLogger(__name__)


def _retry_or_finish(task: Any, report: service.DeliveryReport) -> dict[str, Any]:
    if report.failed and task.request.retries < task.max_retries:
        countdown = int(setting("REMINDER_RETRY_SECONDS")) * (2 ** task.request.retries)
        raise task.retry(countdown=countdown)
    if report.failed:
        log.error("giving up for now on %d recipient(s); the next nightly run tries again", len(report.failed))
    return report.as_dict()


@shared_task(name="reminders.send_unmarked_reminders", bind=True, acks_late=True, max_retries=5,
             autoretry_for=(OperationalError,), retry_backoff=30)
def send_unmarked_reminders(self) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    report = service.send_unmarked_reminders(db_session(), mail_settings(), setting("BASE_URL"),
                                             grace_hours=int(setting("LOCK_GRACE_HOURS")))
    return _retry_or_finish(self, report)


@shared_task(name="reminders.send_at_risk_digests", bind=True, acks_late=True, max_retries=5,
             autoretry_for=(OperationalError,), retry_backoff=30)
def send_at_risk_digests(self) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    report = service.send_at_risk_digests(db_session(), mail_settings(),
                                          threshold=float(setting("AT_RISK_THRESHOLD")),
                                          consecutive=int(setting("AT_RISK_CONSECUTIVE_MISSES")))
    return _retry_or_finish(self, report)
