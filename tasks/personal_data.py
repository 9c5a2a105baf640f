"""Celery tasks for personal data: a person's export, the files an erasure deletes after its commit, and the
nightly retention run. How each retries and fails is its kind's declaration (core/personal_data/jobs.py)."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext

from core import mail
from core.personal_data import erasure, exports, records, retention
from core.personal_data.jobs import APPLY_RETENTION, BREACH_REMINDERS, BUILD_EXPORT, DELETE_ERASED_FILES
from tasks import db_session, mail_settings, storage, translations_dir
from tasks.policy import job_task


@job_task(BUILD_EXPORT)
def build_data_export(export_id: int) -> str:
    return exports.build(db_session(), storage(), export_id, translations_dir())


@job_task(DELETE_ERASED_FILES)
def delete_erased_files(erasure_id: int) -> int:
    return erasure.delete_files(db_session(), storage(), erasure_id)


@job_task(APPLY_RETENTION)
def apply_retention() -> dict[str, Any]:
    return retention.apply_all(db_session(), storage())


@job_task(BREACH_REMINDERS)
def send_breach_reminders() -> int:
    """Each due reminder is marked sent before its mail goes (never twice); the admins read it in their language."""
    settings = mail_settings()
    sent = 0
    for breach, hours, admins in records.due_reminders(db_session()):
        for admin in admins:
            with force_locale(admin.language or "en"):
                subject = gettext("Personal-data incident %(id)s: %(hours)s hours since it was found",
                                  id=breach.id, hours=hours)
                body = gettext("The incident found on %(found)s has no notification recorded yet. Record whom you "
                               "notified, and when, in the breach log.", found=breach.found_at.date().isoformat())
            mail.send(settings, mail.build_message(settings, admin.email, subject, body + "\n"))
            sent += 1
    return sent
