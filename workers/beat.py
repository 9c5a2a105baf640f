"""The beat schedule, in UTC: the sweeper every JOB_SWEEP_SECONDS, and the nightly jobs. Each job sweeps
the database for what is due; when it fired does not matter."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

# (setting holding HH:MM, task name). A job's task is added by the feature that owns it.
NIGHTLY: list[tuple[str, str]] = [
    ("LOCK_RUN_AT", "attendance.lock_past_sessions"),
    ("REMINDER_RUN_AT", "reminders.send_unmarked_reminders"),
    # Levels and their warnings (issue 24) replace the old flag digest (reminders.send_at_risk_digests, kept
    # for `flask --app web attendance send-at-risk`): the staff digest is in at_risk.nightly's warnings.
    ("AT_RISK_RUN_AT", "at_risk.nightly"),
    ("OVERDUE_RUN_AT", "finance.mark_overdue"),
    ("AUDIT_VERIFY_RUN_AT", "audit.verify_trail"),
    ("RETENTION_RUN_AT", "personal_data.apply_retention"),
]


def _at(value: str) -> crontab:
    hour, minute = (int(part) for part in value.split(":", 1))
    return crontab(hour=hour, minute=minute)


def beat_schedule(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schedule: dict[str, dict[str, Any]] = {
        task: {"task": task, "schedule": _at(config[setting]), "options": {"expires": 3 * 3600}}
        for setting, task in NIGHTLY
    }
    # Check-ins that closed since the last minute: their unmarked learners absent (when the institution asks).
    schedule["checkin.mark_unmarked_at_close"] = {"task": "checkin.mark_unmarked_at_close",
                                                  "schedule": crontab(minute="*"), "options": {"expires": 60}}
    # Warnings of level changes that marks made during the day, sent within AT_RISK_WARN_MINUTES.
    warn = max(1, int(config["AT_RISK_WARN_MINUTES"]))
    schedule["at_risk.warn"] = {"task": "at_risk.warn", "schedule": crontab(minute=f"*/{warn}"),
                                "options": {"expires": warn * 60}}
    # Personal-data incidents past a reminder deadline (72 hours; 5 days in Algeria) and not yet notified.
    schedule["personal_data.breach_reminders"] = {"task": "personal_data.breach_reminders",
                                                  "schedule": crontab(minute=7), "options": {"expires": 3600}}
    every = float(config["JOB_SWEEP_SECONDS"])
    # A sweep not started within one period is dropped: the next one does the same work.
    schedule["jobs.sweep"] = {"task": "jobs.sweep", "schedule": every, "options": {"expires": every}}
    return schedule
