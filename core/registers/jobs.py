"""Register documents as jobs (core.jobs): built on the documents queue, with a failed state and a retry."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import jobs
from core.errors import Conflict
from core.models import DocumentStatus, RegisterDocument


def _gave_up(session: Session, document_id: int, message: str) -> None:
    jobs.move_row(session, RegisterDocument, document_id, (DocumentStatus.PENDING, DocumentStatus.BUILDING),
                  status=DocumentStatus.FAILED, error_message=message[:1000])


def _back_to_pending(session: Session, document_id: int) -> None:
    if not jobs.move_row(session, RegisterDocument, document_id, (DocumentStatus.FAILED,),
                         status=DocumentStatus.PENDING, error_message=None):
        raise Conflict("Only a failed document can be built again.", code="document_not_failed")


BUILD_PDF = jobs.register(jobs.JobKind("registers.build_pdf", queue=jobs.DOCUMENTS, on_give_up=_gave_up,
                                       on_retry=_back_to_pending))
