"""What an erasure may delete and what a legal hold keeps: register documents of the person's cohorts (kept
unchanged until their retention ends once submitted), evidence and earlier exports (deleted), and import files
(deleted when they name only this person, else kept until the import-file retention ends)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, union, update
from sqlalchemy.orm import Session

from core.i18n import N_
from core.models import (
    Apology,
    AttendanceRecord,
    CorporateAttendanceRecord,
    DataExport,
    DocumentStatus,
    EvidenceFile,
    LearnerSignature,
    RegisterDocument,
    Submission,
    TraineeImport,
    TraineeImportRow,
)

from .holdings import signature_files
from .policy import Policy, years_after
from .subjects import Subjects

REMOVED = N_("Removed: it named a person whose data was erased. Build it again if needed.")


def _day(value: dt.datetime | None) -> dt.date:
    return (value or dt.datetime.now(dt.UTC)).date()


def documents(session: Session, subjects: Subjects, policy: Policy, pending: list[str]) -> list[dict[str, Any]]:
    """Register documents of the person's cohorts: a submitted one is held (listed with its end of retention);
    any other is removed (its file after commit). Returns the held list."""
    if not subjects.cohort_ids:
        return []
    submitted = (select(Submission.document_id, func.min(Submission.submitted_at).label("at"))
                 .where(Submission.document_id.is_not(None), Submission.submitted_at.is_not(None))
                 .group_by(Submission.document_id).subquery())
    # Submitted or sealed: kept as issued (a sealed PDF's retention runs from when it was built).
    rows = session.execute(select(RegisterDocument.id, RegisterDocument.reference, RegisterDocument.kind,
                                  RegisterDocument.storage_key, func.coalesce(submitted.c.at, case(
                                      (RegisterDocument.seal_fingerprint.is_not(None),
                                       func.coalesce(RegisterDocument.finished_at, RegisterDocument.created_at)),
                                      else_=None)).label("at"))
                           .outerjoin(submitted, submitted.c.document_id == RegisterDocument.id)
                           .where(RegisterDocument.cohort_id.in_(subjects.cohort_ids),
                                  RegisterDocument.storage_key.is_not(None))).all()
    held, removed = [], []
    for row in rows:
        if row.at is not None:
            held.append({"type": "register_document", "document_id": row.id, "reference": row.reference,
                         "kind": str(row.kind.value if hasattr(row.kind, "value") else row.kind),
                         "kept_until": years_after(_day(row.at), policy.registers_years).isoformat()})
        else:
            removed.append(row.id)
            pending.append(row.storage_key)
    if removed:
        session.execute(update(RegisterDocument).where(RegisterDocument.id.in_(removed)).values(
            storage_key=None, status=DocumentStatus.FAILED, error_message=REMOVED, data_version=None))
    return held


def evidence(session: Session, subjects: Subjects, pending: list[str]) -> int:
    """Sick notes on the person's marks and apologies: rows deleted now (the marks keep their status), files after
    commit."""
    user_ids = subjects.ids("users")
    ids = union(select(AttendanceRecord.evidence_file_id).where(
        AttendanceRecord.enrolment_id.in_(subjects.enrolment_ids)),
        select(CorporateAttendanceRecord.evidence_file_id).where(
            CorporateAttendanceRecord.trainee_id.in_(subjects.ids("trainees"))),
        select(Apology.evidence_file_id).where(Apology.user_id.in_(user_ids)))
    found = session.execute(select(EvidenceFile.id, EvidenceFile.storage_key)
                            .where(EvidenceFile.id.in_(ids.scalar_subquery()))).all()
    if found:
        pending.extend(row.storage_key for row in found)
        session.execute(delete(EvidenceFile).where(EvidenceFile.id.in_([row.id for row in found])))
    return len(found)


def signatures(session: Session, subjects: Subjects, pending: list[str]) -> int:
    """The person's drawn signatures on register rows: rows deleted now, images after commit (a sealed or
    submitted register that shows one is held as a whole)."""
    rows = signature_files(session, subjects)
    if rows:
        pending.extend(r.storage_key for r in rows)
        session.execute(delete(LearnerSignature).where(LearnerSignature.id.in_([r.id for r in rows])))
    return len(rows)


def earlier_exports(session: Session, subjects: Subjects, pending: list[str]) -> int:
    """Data exports of the person (they hold everything): files deleted after commit, rows kept as expired."""
    cond = [and_(DataExport.person_kind == kind, DataExport.person_id.in_(subjects.ids(kind)))
            for kind in ("learners", "trainees", "users") if subjects.ids(kind)]
    rows = session.execute(select(DataExport.id, DataExport.storage_key)
                           .where(or_(*cond), DataExport.storage_key.is_not(None))).all() if cond else []
    if rows:
        pending.extend(r.storage_key for r in rows)
        session.execute(update(DataExport).where(DataExport.id.in_([r.id for r in rows]))
                        .values(storage_key=None, expires_at=func.coalesce(DataExport.finished_at,
                                                                           DataExport.created_at)))
    return len(rows)


def import_files(session: Session, institution_id: int | None, match: Any, substitute: dict[str, Any],
                 policy: Policy, pending: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """Import rows naming the person are rewritten (`substitute`); a file naming only them is deleted after
    commit, a file naming others too is held until its retention ends (the retention job deletes it)."""
    imports = select(TraineeImport.id).where(TraineeImport.institution_id == institution_id)
    theirs = session.execute(select(TraineeImportRow.import_id, TraineeImportRow.row_number)
                             .where(TraineeImportRow.import_id.in_(imports), match)).all()
    if not theirs:
        return 0, []
    import_ids = sorted({r.import_id for r in theirs})
    session.execute(update(TraineeImportRow).where(TraineeImportRow.import_id.in_(import_ids), match)
                    .values(**substitute, errors=None).execution_options(synchronize_session=False))
    totals = dict(session.execute(select(TraineeImportRow.import_id, func.count())
                                  .where(TraineeImportRow.import_id.in_(import_ids))
                                  .group_by(TraineeImportRow.import_id)).all())
    mine: dict[int, int] = {}
    for r in theirs:
        mine[r.import_id] = mine.get(r.import_id, 0) + 1
    held = []
    for imp in session.scalars(select(TraineeImport).where(TraineeImport.id.in_(import_ids))):
        if totals.get(imp.id, 0) <= mine.get(imp.id, 0):
            pending.append(imp.storage_key)
        else:
            start = _day(imp.committed_at or imp.created_at)
            held.append({"type": "import_file", "import_id": imp.id, "storage_key": imp.storage_key,
                         "kept_until": (start + dt.timedelta(days=policy.import_files_days)).isoformat()})
    return len(theirs), held
