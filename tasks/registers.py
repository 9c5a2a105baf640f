"""Celery tasks for registers: build a register PDF (WeasyPrint) into private storage."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.errors import DomainError
from core.registers import service
from tasks import db_session, setting, storage

log = logging.getLogger(__name__)


@shared_task(name="registers.build_pdf", bind=True, acks_late=True, max_retries=3,
             autoretry_for=(OperationalError,), retry_backoff=10)
def build_register_pdf(self, document_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    try:
        doc = service.build_register_pdf(db_session(), storage(), document_id,
                                         grace_hours=int(setting("LOCK_GRACE_HOURS")))
    except DomainError as exc:
        log.warning("register document %s: %s", document_id, exc.message)
        service.mark_failed(db_session(), document_id, exc.message)
        return {"id": document_id, "status": "FAILED"}
    return {"id": doc.id, "status": doc.status.value}
