"""Celery tasks for corporate finance: an invoice's or credit note's PDF, and the nightly overdue run.

Both are kinds declared in core/finance/jobs.py: how they retry and fail is the declaration's."""

from __future__ import annotations

from typing import Any

from core import jobs
from core.finance import documents, settlement
from core.finance.jobs import BUILD_INVOICE, MARK_OVERDUE
from tasks import db_session, mail_settings, storage, translations_dir
from tasks.policy import job_task
from tasks.registers import build_settings


@job_task(BUILD_INVOICE)
def build_finance_document(document_id: int) -> str:
    doc = documents.build(db_session(), storage(), document_id, build_settings())
    return doc.status.value if doc is not None else "GONE"


@job_task(MARK_OVERDUE)
def mark_overdue() -> dict[str, Any]:
    report = settlement.mark_overdue(db_session(), mail_settings(), translations=translations_dir())
    if report.failed:
        raise jobs.TryAgain(f"overdue mail to {len(report.failed)} organization(s) failed", answer=report.as_dict())
    return report.as_dict()
