"""Celery tasks for the organization portal: build a delivery or progress report (PDF/XLSX).

A job (core.portals.jobs, registered when core.portals.reports is imported): the wrapper claims it, beats
its heartbeat and records how it ended."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.errors import DomainError
from core.portals import reports
from core.registers.service import record_failure
from tasks import db_session, storage
from tasks.registers import build_settings

log = logging.getLogger(__name__)


@shared_task(name="portals.build_report", bind=True, acks_late=True, max_retries=3,
             autoretry_for=(OperationalError,), retry_backoff=10)
def build_report(self, document_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    try:
        doc = reports.build_report(db_session(), storage(), document_id, build_settings())
    except DomainError as exc:
        log.warning("report %s: %s", document_id, exc.message)
        record_failure(db_session(), document_id, exc.message)
        return {"id": document_id, "status": "FAILED"}
    if doc is None:  # deleted while it was being built
        return {"id": document_id, "status": "GONE"}
    return {"id": doc.id, "status": doc.status.value}
