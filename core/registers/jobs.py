"""Register documents as jobs (core.jobs): built on the documents queue, with a failed state and a retry.

The sweeper sends a build again when its worker died or its message was lost; after MAX_ATTEMPTS runs it
gives up and the document shows FAILED with the reason. A retry puts a FAILED document back to PENDING.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import jobs
from core.errors import Conflict
from core.i18n import N_
from core.models import DocumentStatus, RegisterDocument

MAX_ATTEMPTS = 3


def _gave_up(session: Session, document_id: int, message: str) -> None:
    jobs.move_row(session, RegisterDocument, document_id, (DocumentStatus.PENDING, DocumentStatus.BUILDING),
                  status=DocumentStatus.FAILED, error_message=message[:1000])


def _back_to_pending(session: Session, document_id: int) -> None:
    if not jobs.move_row(session, RegisterDocument, document_id, (DocumentStatus.FAILED,),
                         status=DocumentStatus.PENDING, error_message=None, attempts=0):
        raise Conflict(N_("Only a failed document can be built again."), code="document_not_failed")


BUILD = jobs.register(jobs.JobKind("registers.build", queue=jobs.DOCUMENTS, max_attempts=MAX_ATTEMPTS,
                                   on_give_up=_gave_up, on_retry=_back_to_pending))
