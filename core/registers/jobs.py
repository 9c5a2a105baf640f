"""Register documents as jobs (core.jobs): built on the documents queue, with a failed state and a retry."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from core import jobs
from core.errors import Conflict
from core.models import DocumentStatus, RegisterDocument


def _gave_up(session: Session, document_id: int, message: str) -> None:
    session.execute(update(RegisterDocument)
                    .where(RegisterDocument.id == document_id,
                           RegisterDocument.status.in_((DocumentStatus.PENDING, DocumentStatus.BUILDING)))
                    .values(status=DocumentStatus.FAILED, error_message=message[:1000]))


def _back_to_pending(session: Session, document_id: int) -> None:
    moved = session.execute(update(RegisterDocument)
                            .where(RegisterDocument.id == document_id, RegisterDocument.status == DocumentStatus.FAILED)
                            .values(status=DocumentStatus.PENDING, error_message=None)).rowcount
    if not moved:
        raise Conflict("Only a failed document can be built again.", code="document_not_failed")


BUILD_PDF = jobs.register(jobs.JobKind("registers.build_pdf", queue=jobs.DOCUMENTS, on_give_up=_gave_up,
                                       on_retry=_back_to_pending))
