"""Celery tasks for regulator access: mail one notice about a request (to an admin, or the regulator).

A job (core.access.notices.SEND_NOTICE): an SMTP failure is tried again after the kind's backoff, a bounded
number of times, and a notice that went out is never sent again.
"""

from __future__ import annotations

from core import jobs
from core.access import notices
from tasks import db_session, mail_settings, setting, translations_dir
from tasks.policy import job_task


@job_task(notices.SEND_NOTICE)
def send_access_notice(notice_id: int) -> str:
    outcome = notices.deliver(db_session(), mail_settings(), setting("BASE_URL"), notice_id,
                              translations=translations_dir())
    if outcome == notices.FAILED:
        raise jobs.TryAgain(f"the mail of notice {notice_id} was refused", answer=outcome)
    return outcome
