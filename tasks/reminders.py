"""Celery tasks for reminders: unmarked registers (facilitators) and at-risk digests (cohort admins).

A run records what is due, then mails each recipient; when some recipients' delivery failed, the run is tried
again after the kind's backoff (core/reminders/jobs.py), and never re-sends what already went out.
"""

from __future__ import annotations

from typing import Any

from core import jobs
from core.reminders import service
from core.reminders.jobs import AT_RISK, UNMARKED
from tasks import db_session, mail_settings, setting, translations_dir
from tasks.policy import job_task


def _finished(report: service.DeliveryReport) -> dict[str, Any]:
    """Mail that failed for some recipients: the whole run again later (the answer if no attempt is left)."""
    if report.failed:
        raise jobs.TryAgain(f"mail to {len(report.failed)} recipient(s) failed", answer=report.as_dict())
    return report.as_dict()


@job_task(UNMARKED)
def send_unmarked_reminders() -> dict[str, Any]:
    return _finished(service.send_unmarked_reminders(db_session(), mail_settings(), setting("BASE_URL"),
                                                     grace_hours=int(setting("LOCK_GRACE_HOURS")),
                                                     translations=translations_dir()))


@job_task(AT_RISK)
def send_at_risk_digests() -> dict[str, Any]:
    return _finished(service.send_at_risk_digests(db_session(), mail_settings(),
                                                  threshold=float(setting("AT_RISK_THRESHOLD")),
                                                  consecutive=int(setting("AT_RISK_CONSECUTIVE_MISSES")),
                                                  translations=translations_dir()))
