"""Celery tasks for the organization portal: build a delivery or progress report (PDF/XLSX).

A job (core.portals.jobs): tasks.policy.job_task claims it, beats its heartbeat and records how it ended."""

from __future__ import annotations

from core.portals import reports
from core.portals.jobs import BUILD_REPORT
from tasks import db_session, storage
from tasks.policy import job_task
from tasks.registers import build_settings


@job_task(BUILD_REPORT)
def build_report(document_id: int) -> dict[str, object]:
    doc = reports.build_report(db_session(), storage(), document_id, build_settings())
    if doc is None:  # deleted while it was being built
        return {"id": document_id, "status": "GONE"}
    return {"id": doc.id, "status": doc.status.value}
