"""What every import shares, whatever its target: the upload (file to private storage, row recorded, validation
queued) and the shape of a target.

An import target says where a file's rows go: how its rows are checked (a validator built once the file's
header is read, knowing who is already there) and how its valid rows are inserted. Trainee imports
(core.imports.trainees + commit) and learner imports (core.imports.learners) are the two; core.imports.targets
lists them, and the service validates and commits any import through its target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from core import audit, jobs
from core.models import ImportKind, ImportStatus, TraineeImport, User
from core.storage import PrivateStorage
from core.uow import unit_of_work

from .jobs import VALIDATE

# Builds the row checker for an import once its file's header is read (columns → validator with check,
# check_batch, valid, invalid, by_reason, possible_duplicates).
MakeValidator = Callable[[list[str]], Any]


@dataclass(frozen=True)
class ImportTarget:
    """One kind of import: its columns, its row checker and its commit (one transaction, idempotent)."""

    kind: ImportKind
    columns: tuple[str, ...]  # what its file's header names (reading.TraineeReader and the wrong-header message)
    validator: Callable[[Session, TraineeImport], MakeValidator]
    commit: Callable[[Session, int], TraineeImport | None]


def store_upload(session: Session, storage: PrivateStorage, imp: TraineeImport, *, uploader: User,
                 stream: BinaryIO, filename: str, max_bytes: int) -> TraineeImport:
    """Any kind of import: the file to private storage, the row recorded, validation queued (core.jobs)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255] or "upload.csv"
    stored = storage.save_stream(stream, "imports", ".csv", max_bytes=max_bytes)
    imp.uploaded_by_id, imp.original_filename, imp.storage_key = uploader.id, name, stored.key
    imp.size_bytes, imp.sha256, imp.status = stored.size, stored.sha256, ImportStatus.UPLOADED
    imp.rows_done = imp.valid_count = imp.invalid_count = imp.inserted_count = imp.enrolled_count = 0
    imp.errors_by_reason = {}
    try:
        with unit_of_work(session):
            session.add(imp)
            session.flush()
            audit.record(session, actor_id=uploader.id, action="import.upload", entity_type="trainee_import",
                         entity_id=imp.id, after={"file": name, "size": stored.size, "sha256": stored.sha256},
                         context={"cohort_id": imp.cohort_id, "kind": imp.kind or ImportKind.TRAINEES.value})
            jobs.enqueue(session, VALIDATE, imp.id)  # sent after commit, or by the sweeper if the broker is down
    except BaseException:
        storage.delete(stored.key)  # nothing refers to the file: don't keep it
        raise
    return imp
