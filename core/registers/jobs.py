"""Register documents as jobs (core.jobs): built on the documents queue, with a failed state and a retry.

Any error but a domain one may pass (a full disk, a renderer that died), so every attempt that fails is tried
again after REGISTER_RETRY_SECONDS (doubling), MAX_ATTEMPTS runs in all, counted on the job; then the document
shows FAILED with the reason in words. The sweeper sends a build again when its worker died or its message was
lost. A retry puts a FAILED document back to PENDING. Portal reports (core.portals.jobs) share all of it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import clock, jobs
from core.errors import Conflict
from core.i18n import N_
from core.models import DocumentStatus, RegisterDocument

from . import pdf

MAX_ATTEMPTS = 3


def document_failed(session: Session, document_id: int, message: str) -> None:
    """FAILED with the message people see (the one failed state of a document build: the kinds' hook)."""
    jobs.move_row(session, RegisterDocument, document_id, (DocumentStatus.PENDING, DocumentStatus.BUILDING),
                  status=DocumentStatus.FAILED, error_message=message[:1000], finished_at=clock.now())


def back_to_pending(session: Session, document_id: int) -> None:
    if not jobs.move_row(session, RegisterDocument, document_id, (DocumentStatus.FAILED,),
                         status=DocumentStatus.PENDING, error_message=None):
        raise Conflict(N_("Only a failed document can be built again."), code="document_not_failed")


def failure_message(exc: BaseException) -> str:
    """What went wrong, in words an administrator can act on (the details go to the log)."""
    if isinstance(exc, OSError):
        return f"The file could not be written ({exc.strerror or type(exc).__name__}); check the storage disk."
    if isinstance(exc, pdf.RenderError):
        return f"The document could not be rendered: {exc}"
    name = type(exc).__module__.split(".")[0]
    if name == "jinja2":
        return f"The document template failed: {exc}"
    return f"The document could not be built: {type(exc).__name__}: {exc}"


BUILD = jobs.register(jobs.JobKind(
    "registers.build", queue=jobs.DOCUMENTS, max_attempts=MAX_ATTEMPTS, transient=(Exception,),
    backoff=jobs.Backoff(base=30, setting="REGISTER_RETRY_SECONDS"), on_fail=document_failed,
    explain=failure_message, on_retry=back_to_pending, institution_of=jobs.institution_column(RegisterDocument)))
