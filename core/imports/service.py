"""Imports of any target (core.imports.targets): upload (create), validate (task), commit (task), cancel.

Each call is one transaction, except `validate_import`, which commits every batch's row results with its
progress (store.row_sink), so that the status page sees it move; a redelivered validation resumes after the
last batch an earlier attempt committed, its validator restored from those rows (store.checkpoint), so the end
result is the same however often it runs and wherever it was stopped.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import Conflict, NotFound
from core.i18n import N_
from core.models import (
    Cohort,
    ImportKind,
    ImportStatus,
    TraineeImport,
    TraineeImportRow,
    User,
)
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import reading, rules, store, targets
from .jobs import validation_failed
from .pipeline import MakeValidator, store_upload
from .store import VALIDATION_LOCK_SPACE  # noqa: F401  (tests and operators look it up here)
from .trainees import importable_cohort

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5000  # rows per batch: checked, written and reported together (20 round trips per 100k rows)
PREVIEW_LIMIT = 500
CANCELLABLE = {ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.VALIDATED, ImportStatus.FAILED}


# ---------------------------------------------------------------- upload


def create_import(session: Session, storage: PrivateStorage, *, cohort: Cohort, uploader: User,
                  stream: BinaryIO, filename: str, max_bytes: int) -> TraineeImport:
    """Store the upload as it streams in (never parsed here), record it, validate it after commit."""
    importable_cohort(session, cohort)
    return store_upload(session, storage, TraineeImport(cohort_id=cohort.id), uploader=uploader, stream=stream,
                        filename=filename, max_bytes=max_bytes)


# ---------------------------------------------------------------- validation


def validate_import(session: Session, storage: PrivateStorage, import_id: int,
                    progress_every: int = PROGRESS_EVERY) -> TraineeImport | None:
    """Check every row of the stored file; store per-row results; end VALIDATED or FAILED.

    At most one validation of an import runs at a time: a second delivery while the first is still
    alive leaves it alone; once the first worker dies, its lock goes with its connection."""
    with store.validation_guard(session.get_bind(), import_id) as running_elsewhere:  # type: ignore[arg-type]
        if running_elsewhere:
            log.info("import %s is being validated by another worker; leaving it", import_id)
            return session.get(TraineeImport, import_id)
        return _validate(session, storage, import_id, progress_every)


def _validate(session: Session, storage: PrivateStorage, import_id: int, progress_every: int) -> TraineeImport | None:
    with unit_of_work(session):  # claim the import (a short transaction: the status page sees VALIDATING)
        imp = session.get(TraineeImport, import_id, with_for_update=True)
        if imp is None or imp.status not in (ImportStatus.UPLOADED, ImportStatus.VALIDATING):
            return imp  # gone, done, cancelled or committed already: a redelivery changes nothing
        if imp.status == ImportStatus.UPLOADED:  # a first attempt: nothing of an earlier one to keep
            session.execute(delete(TraineeImportRow).where(TraineeImportRow.import_id == import_id))
            imp.status, imp.started_at, imp.rows_total = ImportStatus.VALIDATING, clock.now(), None
            imp.rows_done, imp.valid_count, imp.invalid_count = 0, 0, 0
        imp.finished_at, imp.errors_by_reason, imp.error_message, imp.possible_duplicate_count = None, {}, None, 0
        key = imp.storage_key
        target = targets.target_for(imp.kind)
        make_validator, expected = target.validator(session, imp), target.columns
        resume = store.checkpoint(session.connection(), import_id)  # what an earlier attempt committed
        store.clear_rows_after(session.connection(), import_id, resume.last_row)

    try:
        profile = reading.sniff_file(storage.iter_chunks(key))
        with unit_of_work(session):
            still_validating = _update_progress(session, import_id, rows_total=max(profile.line_count - 1, 0))
        if not still_validating:
            return session.get(TraineeImport, import_id)
        if not _run_rows(session, storage, key, import_id, profile, make_validator, progress_every, expected,
                         resume):
            log.info("import %s changed status while validating; leaving it", import_id)
    except reading.FileRejected as rejected:
        with unit_of_work(session):
            validation_failed(session, import_id, rejected.message, rejected.code)
    return session.get(TraineeImport, import_id)


def expected_columns(kind: ImportKind | str | None) -> tuple[str, ...]:
    """The columns a file of this kind of import names in its header row (its target's)."""
    return targets.target_for(kind).columns


def _run_rows(session: Session, storage: PrivateStorage, key: str, import_id: int, profile: reading.FileProfile,
              make_validator: MakeValidator, progress_every: int, expected: tuple[str, ...] = rules.COLUMNS,
              resume: store.Checkpoint | None = None) -> bool:
    """Check every row after `resume`'s last one, writing results and progress as it goes, and end VALIDATED
    (store.row_sink). False: the import left VALIDATING meanwhile (cancelled)."""
    def progress(connection: Connection, rows_done: int, valid: int, invalid: int) -> bool:
        return _commit_progress(connection, import_id, rows_done, valid, invalid)

    engine = session.get_bind()
    with store.row_sink(engine, import_id, progress) as sink, storage.open(key) as raw:  # type: ignore[arg-type]
        text_stream = io.TextIOWrapper(raw, encoding=profile.encoding, newline="")
        try:
            reader = reading.TraineeReader(text_stream, expected)
            validator = make_validator(reader.columns)
            if resume is not None and resume.last_row:
                validator.restore(resume)
            for batch in reader.batches(progress_every, after=resume.last_row if resume else 0):
                checked = validator.check_batch(batch)
                if not sink.add(checked, validator.valid + validator.invalid, validator.valid, validator.invalid):
                    return False
        except UnicodeDecodeError:
            raise reading.FileRejected("encoding", reading.NOT_UTF8) from None
        if validator.valid + validator.invalid == 0:
            raise reading.FileRejected("no_rows", N_("The file has a header row but no trainee rows."))
        return sink.finish(partial(_mark_validated, import_id=import_id, validator=validator))


def _commit_progress(connection: Connection, import_id: int, rows_done: int, valid: int, invalid: int) -> bool:
    """A batch's progress, in the transaction that writes its rows (committed with them, so that the status
    page sees it move). False: cancelled."""
    return bool(connection.execute(
        update(TraineeImport.__table__)
        .where(TraineeImport.id == import_id, TraineeImport.status == ImportStatus.VALIDATING)
        .values(rows_done=rows_done, valid_count=valid, invalid_count=invalid)
    ).rowcount)


def _mark_validated(connection: Connection, *, import_id: int, validator: rules.RowValidator) -> bool:
    """The final counts, in the transaction that writes the last rows. False: no longer VALIDATING."""
    total = validator.valid + validator.invalid
    return bool(connection.execute(
        update(TraineeImport.__table__)
        .where(TraineeImport.id == import_id, TraineeImport.status == ImportStatus.VALIDATING)
        .values(status=ImportStatus.VALIDATED, rows_total=total, rows_done=total, valid_count=validator.valid,
                invalid_count=validator.invalid, errors_by_reason=validator.by_reason, finished_at=clock.now(),
                possible_duplicate_count=validator.possible_duplicates)
    ).rowcount)


def _update_progress(session: Session, import_id: int, **values: Any) -> bool:
    result = session.execute(
        update(TraineeImport)
        .where(TraineeImport.id == import_id, TraineeImport.status == ImportStatus.VALIDATING)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- commit


def commit_import(session: Session, import_id: int) -> TraineeImport | None:
    """Insert an import's valid rows where its target keeps them (core.imports.targets): one transaction,
    idempotent (a redelivered job finds the import COMMITTED and adds nothing)."""
    with unit_of_work(session):
        kind = session.scalar(select(TraineeImport.kind).where(TraineeImport.id == import_id))
        if kind is None:
            return None
        return targets.target_for(kind).commit(session, import_id)


# ---------------------------------------------------------------- cancel


def cancel_import(session: Session, import_id: int, user: User, *, cohort: Cohort) -> TraineeImport:
    with unit_of_work(session):
        imp = session.get(TraineeImport, import_id, with_for_update=True)
        if imp is None or imp.cohort_id != cohort.id:
            raise NotFound(N_("No such import."))
        return cancel(session, imp, user)


def cancel(session: Session, imp: TraineeImport, user: User) -> TraineeImport:
    """Any kind of import, already checked to be the caller's."""
    with unit_of_work(session):
        if imp.status == ImportStatus.CANCELLED:
            return imp
        if imp.status not in CANCELLABLE:
            raise Conflict(N_("This import is %(status)s and can no longer be cancelled."),
                           params={"status": imp.status.value}, code="import_not_cancellable")
        before = imp.status.value
        imp.status, imp.finished_at = ImportStatus.CANCELLED, imp.finished_at or clock.now()
        audit.record(session, actor_id=user.id, action="import.cancel", entity_type="trainee_import",
                     entity_id=imp.id, before={"status": before}, after={"status": "CANCELLED"})
        # the file stays on storage, for history
        return imp


# ---------------------------------------------------------------- reading back


def preview_rows(session: Session, import_id: int, limit: int = PREVIEW_LIMIT) -> list[TraineeImportRow]:
    """At most `limit` rows: errors first, then valid ones, each in file order."""
    return list(session.scalars(
        select(TraineeImportRow).where(TraineeImportRow.import_id == import_id)
        .order_by(TraineeImportRow.ok, TraineeImportRow.row_number).limit(limit)
    ))


def error_report_lines(session: Session, import_id: int, batch: int = 2000, *,
                       gettext: Callable[[str], str] = str,
                       describe: Callable[[dict[str, Any]], str] = lambda e: str(e.get("message", ""))
                       ) -> Iterator[list[str]]:
    """The error report as CSV cells, streamed: row, column, value, reason, message (formulas neutralized).
    The titles go through `gettext` and each problem through `describe` (the reader's language); the reason
    column keeps its code."""
    yield [gettext(title) for title in (N_("row"), N_("column"), N_("value"), N_("reason"), N_("message"))]
    stmt = (select(TraineeImportRow.row_number, TraineeImportRow.errors)
            .where(TraineeImportRow.import_id == import_id, TraineeImportRow.ok.is_(False))
            .order_by(TraineeImportRow.row_number).execution_options(yield_per=batch))
    for number, errors in session.execute(stmt):
        for e in (errors or {}).get("errors", []):
            yield [str(number), *(rules.neutralize_formula(e.get(k)) for k in ("column", "value", "code")),
                   rules.neutralize_formula(describe(e))]
