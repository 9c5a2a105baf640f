"""The nightly retention run: applies each institution's policy in batches, each its own short transaction
(rows locked with SKIP LOCKED on PostgreSQL, so marking elsewhere never waits on it), files deleted after each
batch's commit, and records what it removed by category (counts, never the data). Idempotent: what is gone is
not found again; killed midway, the next run carries on from what is left."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core import clock
from core.models import (
    Cohort,
    EvidenceFile,
    ImportStatus,
    Institution,
    PersonalDataErasure,
    RegisterDocument,
    RetentionRun,
    TraineeImport,
    TraineeImportRow,
)
from core.storage import PrivateStorage
from core.uow import unit_of_work

from .policy import Policy, policy_of, years_after

log = logging.getLogger(__name__)
BATCH = 1000


def _locked(session: Session, stmt: Any) -> Any:
    """FOR UPDATE SKIP LOCKED where the database has it: a row someone is changing is left for the next run."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def _batches(session: Session, storage: PrivateStorage, pick: Any, remove: Any, batch: int) -> int:
    """Run `pick` (ids and storage keys of up to `batch` due rows) and `remove` (the ids) until nothing is due;
    each batch commits on its own, then its files are deleted (a crash between: the row is gone, the file stays
    as an orphan the storage sweep of the next run does not need: deleting a missing file is a no-op)."""
    total = 0
    while True:
        with unit_of_work(session):
            rows = session.execute(_locked(session, pick.limit(batch))).all()
            if rows:
                remove([r[0] for r in rows])
        for row in rows:
            if len(row) > 1 and row[1]:
                storage.delete(row[1])
        total += len(rows)
        if len(rows) < batch:
            return total


def apply_institution(session: Session, storage: PrivateStorage, institution_id: int, *, batch: int = BATCH
                      ) -> dict[str, int]:
    policy = policy_of(session, institution_id)
    now = clock.now()
    counts = {"import_files": _import_files(session, storage, institution_id, policy, now, batch),
              "import_rows": _import_rows(session, storage, institution_id, policy, now, batch),
              "evidence_files": _evidence(session, storage, institution_id, policy, now, batch),
              "held_documents": _finish_erasures(session, storage, institution_id, now)}
    with unit_of_work(session):
        session.add(RetentionRun(institution_id=institution_id, started_at=now, finished_at=clock.now(),
                                 counts=counts))
    log.info("retention: institution %s removed %s", institution_id, counts)  # counts only: no personal data
    return counts


def apply_all(session: Session, storage: PrivateStorage, *, batch: int = BATCH) -> dict[str, Any]:
    ids = list(session.scalars(select(Institution.id).order_by(Institution.id)))
    session.rollback()
    return {str(i): apply_institution(session, storage, i, batch=batch) for i in ids}


def _import_files(session: Session, storage: PrivateStorage, institution_id: int, policy: Policy, now: dt.datetime,
                  batch: int) -> int:
    """Committed (or cancelled) import files, `import_files_days` after: the file goes, the row stays (counts)."""
    due = now - dt.timedelta(days=policy.import_files_days)
    pick = select(TraineeImport.id, TraineeImport.storage_key).where(
        TraineeImport.institution_id == institution_id, TraineeImport.storage_key.not_like("removed:%"),
        TraineeImport.status.in_((ImportStatus.COMMITTED, ImportStatus.CANCELLED)),
        TraineeImport.created_at < due,
        (TraineeImport.committed_at.is_(None)) | (TraineeImport.committed_at < due)).order_by(TraineeImport.id)

    def remove(ids: list[int]) -> None:
        # storage_key is unique and NOT NULL: the row keeps a marker instead of the key.
        session.execute(update(TraineeImport).where(TraineeImport.id.in_(ids))
                        .values(storage_key="removed:" + TraineeImport.id.cast(_text())))

    return _batches(session, storage, pick, remove, batch)


def _text() -> Any:
    from sqlalchemy import String

    return String()


def _import_rows(session: Session, storage: PrivateStorage, institution_id: int, policy: Policy, now: dt.datetime,
                 batch: int) -> int:
    """Per-row results (the preview and the error report) of imports finished `error_reports_days` ago."""
    due = now - dt.timedelta(days=policy.error_reports_days)
    old = select(TraineeImport.id).where(TraineeImport.institution_id == institution_id,
                                         TraineeImport.status.in_((ImportStatus.COMMITTED, ImportStatus.CANCELLED)),
                                         TraineeImport.created_at < due)
    pick = select(TraineeImportRow.import_id, TraineeImportRow.row_number).where(
        TraineeImportRow.import_id.in_(old)).order_by(TraineeImportRow.import_id, TraineeImportRow.row_number)
    total = 0
    while True:
        with unit_of_work(session):
            rows = session.execute(_locked(session, pick.limit(batch))).all()
            for import_id in {r[0] for r in rows}:
                numbers = [r[1] for r in rows if r[0] == import_id]
                session.execute(delete(TraineeImportRow).where(TraineeImportRow.import_id == import_id,
                                                               TraineeImportRow.row_number.in_(numbers)))
        total += len(rows)
        if len(rows) < batch:
            return total


def _evidence(session: Session, storage: PrivateStorage, institution_id: int, policy: Policy, now: dt.datetime,
              batch: int) -> int:
    """Evidence files of cohorts that ended `evidence_years` ago (found through the marks that hold them)."""
    from core.models import AttendanceRecord, ClassSession, CorporateAttendanceRecord

    cutoff = years_after(now.date(), -policy.evidence_years)
    ended = select(Cohort.id).where(Cohort.institution_id == institution_id, Cohort.end_date.is_not(None),
                                    Cohort.end_date < cutoff)
    sessions = select(ClassSession.id).where(ClassSession.cohort_id.in_(ended))
    held = select(AttendanceRecord.evidence_file_id).where(AttendanceRecord.session_id.in_(sessions)).union(
        select(CorporateAttendanceRecord.evidence_file_id).where(CorporateAttendanceRecord.session_id.in_(sessions)))
    pick = select(EvidenceFile.id, EvidenceFile.storage_key).where(
        EvidenceFile.id.in_(held.scalar_subquery())).order_by(EvidenceFile.id)
    return _batches(session, storage, pick,
                    lambda ids: session.execute(delete(EvidenceFile).where(EvidenceFile.id.in_(ids))), batch)


def _finish_erasures(session: Session, storage: PrivateStorage, institution_id: int, now: dt.datetime) -> int:
    """Erasures whose legal holds have ended: the held documents and import files go, and the erasure is
    complete."""
    today = now.date().isoformat()
    done = 0
    for erasure_id in list(session.scalars(select(PersonalDataErasure.id).where(
            PersonalDataErasure.institution_id == institution_id, PersonalDataErasure.completed_at.is_(None)))):
        keys: list[str] = []
        with unit_of_work(session):
            erasure = session.get(PersonalDataErasure, erasure_id, with_for_update=True)
            if erasure is None or erasure.completed_at is not None:
                continue
            items = list((erasure.held or {}).get("items", []))
            ended = [i for i in items if i["kept_until"] <= today]
            for item in ended:
                if item["type"] == "register_document":
                    doc = session.get(RegisterDocument, item["document_id"])
                    if doc is not None and doc.storage_key:
                        keys.append(doc.storage_key)
                        doc.storage_key = None
                elif item.get("storage_key"):
                    keys.append(item["storage_key"])
            left = [i for i in items if i["kept_until"] > today]
            erasure.held = {"items": left, "ended": len(ended) + int((erasure.held or {}).get("ended", 0))}
            if not left:
                erasure.completed_at = now
        for key in keys:
            storage.delete(key)
        done += len(keys)
    return done
