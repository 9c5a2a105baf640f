"""Celery tasks for reminders: unmarked registers (facilitators) and at-risk digests (cohort admins).

A run records what is due, then mails each recipient; recipients whose SMTP delivery failed are retried
with exponential backoff by re-running the task, which never re-sends what already went out.
"""

from __future__ import annotations

import logging
from typing import Any

from core.reminders import service
from tasks import db_session, mail_settings, setting, translations_dir
from tasks.policy import policy_task, retry_later

log = logging.getLogger(__name__)


def _retry_or_finish(task: Any, report: service.DeliveryReport) -> dict[str, Any]:
    """Mail that failed for some recipients: the whole run again later (it never re-sends what went out)."""
    if report.failed and task.request.retries < task.max_retries:
        retry_later(task, base=float(setting("REMINDER_RETRY_SECONDS")))
    if report.failed:
        log.error("giving up for now on %d recipient(s); the next nightly run tries again", len(report.failed))
    return report.as_dict()


@policy_task("reminders.send_unmarked_reminders", backoff_base=30, bind=True)
def send_unmarked_reminders(task: Any) -> dict[str, Any]:
    report = service.send_unmarked_reminders(db_session(), mail_settings(), setting("BASE_URL"),
                                             grace_hours=int(setting("LOCK_GRACE_HOURS")),
                                             translations=translations_dir())
    return _retry_or_finish(task, report)


@policy_task("reminders.send_at_risk_digests", backoff_base=30, bind=True)
def send_at_risk_digests(task: Any) -> dict[str, Any]:
    report = service.send_at_risk_digests(db_session(), mail_settings(),
                                          threshold=float(setting("AT_RISK_THRESHOLD")),
                                          consecutive=int(setting("AT_RISK_CONSECUTIVE_MISSES")),
                                          translations=translations_dir())
    return _retry_or_finish(task, report)
