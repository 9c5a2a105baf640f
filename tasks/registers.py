"""Celery tasks for registers: build a register PDF (WeasyPrint) into private storage."""

from __future__ import annotations

from core.registers import service
from tasks import db_session, setting, storage
from tasks.policy import policy_task


@policy_task("registers.build_pdf", on_failure=service.mark_failed, max_retries=3, backoff_base=10)
def build_register_pdf(document_id: int) -> dict[str, object]:
    doc = service.build_register_pdf(db_session(), storage(), document_id,
                                     grace_hours=int(setting("LOCK_GRACE_HOURS")))
    return {"id": doc.id, "status": doc.status.value}
