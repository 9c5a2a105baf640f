"""Personal data as job kinds (core.jobs): a person's export built on the documents queue, the files an erasure
deletes after its commit (an outbox row in the erasure's own transaction: a crash between the commit and the
deletion is resumed by the sweeper), and the nightly retention run (no row: beat or by hand)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import jobs
from core.models import DataExport, PersonalDataErasure


def _export_failed(session: Session, export_id: int, message: str) -> None:
    jobs.move_row(session, DataExport, export_id, ("PENDING", "BUILDING"), status="FAILED", error_message=message)


def _export_again(session: Session, export_id: int) -> None:
    jobs.move_row(session, DataExport, export_id, ("FAILED",), status="PENDING", error_message=None)


BUILD_EXPORT = jobs.register(jobs.JobKind(
    "personal_data.build_export", queue=jobs.DOCUMENTS, max_attempts=3, transient=(Exception,),
    backoff=jobs.Backoff(base=30), on_fail=_export_failed, on_retry=_export_again,
    institution_of=jobs.institution_column(DataExport)))
DELETE_ERASED_FILES = jobs.register(jobs.JobKind(
    "personal_data.delete_files", max_attempts=6, transient=(OSError, *jobs.TRANSIENT), backoff=jobs.Backoff(base=30),
    institution_of=jobs.institution_column(PersonalDataErasure)))
APPLY_RETENTION = jobs.register(jobs.JobKind(
    "personal_data.apply_retention", max_attempts=4, backoff=jobs.Backoff(base=60), per_row=False))
BREACH_REMINDERS = jobs.register(jobs.JobKind(
    "personal_data.breach_reminders", max_attempts=4, backoff=jobs.Backoff(base=60), per_row=False))
