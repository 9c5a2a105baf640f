"""Imports as jobs (core.jobs): validation and commit, each with its one failed state and its retry."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.errors import Conflict, NotFound
from core.i18n import N_
from core.models import Cohort, ImportStatus, TraineeImport, TraineeImportRow, User
from core.uow import unit_of_work


def validation_failed(session: Session, import_id: int, message: str, code: str | None = None) -> None:
    """The import's validation ended without a result (a refused file: `code`; or the job gave up): FAILED with
    the message people see, and no row results. The one failed state of a validation (kind VALIDATE's hook)."""
    session.execute(delete(TraineeImportRow).where(TraineeImportRow.import_id == import_id))
    jobs.move_row(session, TraineeImport, import_id, (ImportStatus.UPLOADED, ImportStatus.VALIDATING),
                  status=ImportStatus.FAILED, error_message=message, errors_by_reason={"file": code} if code else {},
                  rows_done=0, valid_count=0, invalid_count=0, finished_at=clock.now())


def _validation_reset(session: Session, import_id: int) -> None:
    if not jobs.move_row(session, TraineeImport, import_id, (ImportStatus.FAILED,), status=ImportStatus.UPLOADED,
                         error_message=None, errors_by_reason={}, rows_done=0, rows_total=None, finished_at=None):
        raise Conflict(N_("Only a failed import can be checked again."), code="import_not_failed")


def commit_failed(session: Session, import_id: int, message: str) -> None:
    """The commit job ended without committing: back to VALIDATED with the reason (kind COMMIT's hook)."""
    jobs.move_row(session, TraineeImport, import_id, (ImportStatus.COMMITTING,), status=ImportStatus.VALIDATED,
                  error_message=message + " Nothing was added.")


def _commit_reset(session: Session, import_id: int) -> None:
    if not jobs.move_row(session, TraineeImport, import_id, (ImportStatus.VALIDATED,),
                         status=ImportStatus.COMMITTING, error_message=None):
        raise Conflict(N_("Only a validated import can be committed."), code="import_not_validated")


# Trainee and learner imports alike (told apart by TraineeImport.kind).
VALIDATE = jobs.register(jobs.JobKind("imports.validate", queue=jobs.IMPORTS, backoff=jobs.Backoff(cap=120),
                                      on_fail=validation_failed, on_retry=_validation_reset,
                                      institution_of=jobs.institution_column(TraineeImport)))
COMMIT = jobs.register(jobs.JobKind("imports.commit", queue=jobs.IMPORTS, backoff=jobs.Backoff(cap=120),
                                    on_fail=commit_failed, on_retry=_commit_reset,
                                    institution_of=jobs.institution_column(TraineeImport)))
JOB_KINDS = (VALIDATE.name, COMMIT.name)


def retry_import(session: Session, import_id: int, user: User, *, cohort: Cohort) -> TraineeImport:
    """Run a FAILED import's validation again (after a crash loop or an internal error)."""
    with unit_of_work(session):
        imp = session.get(TraineeImport, import_id, with_for_update=True)
        if imp is None or imp.cohort_id != cohort.id:
            raise NotFound(N_("No such import."))
        jobs.retry(session, VALIDATE, imp.id)
        audit.record(session, actor_id=user.id, action="import.retry", entity_type="trainee_import", entity_id=imp.id,
                     before={"status": "FAILED"}, after={"status": "UPLOADED"})
    session.refresh(imp)
    return imp
