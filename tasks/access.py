"""Celery tasks for regulator access: mail the people a request concerns (admins, then the regulator).

Owed mails are rows written with the change; this task sends those of one request. Failed ones are
retried with exponential backoff, a bounded number of times; what went out is never sent again.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.access import notices
from tasks import db_session, mail_settings, setting

log = logging.getLogger(__name__)


@shared_task(name="access.send_notices", bind=True, acks_late=True, max_retries=5,
             autoretry_for=(OperationalError,), retry_backoff=30)
def send_access_notices(self, request_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    report = notices.deliver(db_session(), mail_settings(), setting("BASE_URL"), request_id)
    if report.failed and self.request.retries < self.max_retries:
        raise self.retry(countdown=int(setting("REMINDER_RETRY_SECONDS")) * (2 ** self.request.retries))
    if report.failed:
        log.error("access request %s: giving up on %d mail(s)", request_id, len(report.failed))
    return report.as_dict()
