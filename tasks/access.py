"""Celery tasks for regulator access: mail one notice about a request (to an admin, or the regulator).

A job (core.access.notices.SEND_NOTICE): the wrapper claims it, beats its heartbeat and records how it
ended; an SMTP failure retries with exponential backoff, a bounded number of times, and a notice that
went out is never sent again.
"""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.access import notices
from tasks import db_session, mail_settings, setting, translations_dir

log = logging.getLogger(__name__)


@shared_task(name="access.send_notice", bind=True, acks_late=True, max_retries=notices.MAX_ATTEMPTS - 1,
             autoretry_for=(OperationalError,), retry_backoff=30)
def send_access_notice(self, notice_id: int) -> str:  # type: ignore[no-untyped-def]
    outcome = notices.deliver(db_session(), mail_settings(), setting("BASE_URL"), notice_id,
                              translations=translations_dir())
    if outcome == notices.FAILED and self.request.retries < self.max_retries:
        raise self.retry(countdown=int(setting("REMINDER_RETRY_SECONDS")) * (2 ** self.request.retries))
    if outcome == notices.FAILED:
        log.error("access notice %s: giving up", notice_id)
    return outcome
