"""What imports write differently on PostgreSQL and SQLite, side by side; the use cases never branch.

- Row results: a batch at a time, each in one transaction with its progress (so an interrupted validation
  resumes after its last committed batch, `checkpoint`): PostgreSQL by COPY, SQLite by a multi-row INSERT
  (`row_sink`).
- One validation at a time per import: a PostgreSQL advisory lock held on its own connection (it goes
  with the connection if the worker dies); SQLite serializes every writer already.
- Committing trainees: one INSERT … SELECT from the valid rows, optionally ON CONFLICT DO NOTHING, in
  each dialect's own insert construct.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, func, insert, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core import clock
from core.db import is_postgres
from core.models import CorporateTrainee, TraineeImportRow

from . import rules

_ROW_COLUMNS = ("import_id", "row_number", "ok", "full_name", "phone_e164", "email", "job_title",
                "employee_code", "department", "id_number", "date_of_birth", "errors")


# Records a batch's progress (rows done, valid, invalid) in the connection's open transaction, the one that
# writes the batch's rows; False: the import left VALIDATING (cancelled), and the batch is rolled back.
Progress = Callable[[Connection, int, int, int], bool]
# Sets the final status in the connection's open transaction; False: the import left VALIDATING.
Finish = Callable[[Connection], bool]


@dataclass
class Checkpoint:
    """What an interrupted validation had committed: its last row, its tallies and the values it had seen
    (the state a row validator needs to judge the rows after it exactly as one uninterrupted run would)."""

    last_row: int = 0
    valid: int = 0
    invalid: int = 0
    possible_duplicates: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    phones: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def checkpoint(connection: Connection, import_id: int, batch: int = 5000) -> Checkpoint:
    """The committed row results of an import read back into a Checkpoint, in row order (the first row that
    held a value is the one a repeat names). Same on both databases."""
    rows = TraineeImportRow
    point = Checkpoint()
    stmt = (select(rows.row_number, rows.ok, rows.phone_e164, rows.email, rows.employee_code, rows.id_number,
                   rows.errors)
            .where(rows.import_id == import_id).order_by(rows.row_number).execution_options(yield_per=batch))
    for number, ok, phone, email, code, id_number, problems in connection.execute(stmt):
        point.last_row = number
        codes = [e.get("code") for e in (problems or {}).get("errors", [])]
        if ok:
            point.valid += 1
            point.possible_duplicates += bool((problems or {}).get("warnings"))
        else:
            point.invalid += 1
            for code_ in codes:
                point.by_reason[code_] = point.by_reason.get(code_, 0) + 1
        for seen, value in ((point.phones, phone), (point.emails, email), (point.codes, code)):
            if value:
                seen.setdefault(value, number)
        if id_number and "id_number_too_long" not in codes:  # a cut ID number was never remembered
            point.ids.setdefault(id_number, number)
    return point


def clear_rows_after(connection: Connection, import_id: int, last_row: int) -> None:
    """Row results past a checkpoint (none when batches commit with their progress; kept as a guard)."""
    connection.execute(delete(TraineeImportRow.__table__).where(
        TraineeImportRow.import_id == import_id, TraineeImportRow.row_number > last_row))


@contextmanager
def row_sink(engine: Engine, import_id: int, progress: Progress) -> Iterator[RowSink]:
    """Where a validation's row results go, on a connection of its own: each batch is written in one short
    transaction with its progress, so a validation that stops keeps what it committed and the next attempt
    resumes after it (`checkpoint`)."""
    with engine.connect() as connection:
        postgres = engine.dialect.name == "postgresql"
        yield RowSink(connection, import_id, progress, _copy_batch if postgres else _insert_batch, postgres)


class RowSink:
    """Each batch: progress and rows in one transaction. On PostgreSQL the rows go by COPY and the commit does
    not wait for the WAL flush (a batch lost with the server is simply checked again: the progress is lost with
    it)."""

    def __init__(self, connection: Connection, import_id: int, progress: Progress,
                 write: Callable[[Connection, int, rules.CheckedRows], None], postgres: bool) -> None:
        self.connection, self.import_id, self.progress = connection, import_id, progress
        self.write, self.postgres = write, postgres

    def add(self, batch: rules.CheckedRows, rows_done: int, valid: int, invalid: int) -> bool:
        """The batch and its progress committed together; False (nothing written): the import was cancelled."""
        with self.connection.begin() as transaction:
            if self.postgres:
                self.connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            if not self.progress(self.connection, rows_done, valid, invalid):
                transaction.rollback()
                return False
            self.write(self.connection, self.import_id, batch)
        return True

    def finish(self, final: Finish) -> bool:
        """The final status; False: the import left VALIDATING meanwhile."""
        with self.connection.begin():
            return final(self.connection)


def _copy_batch(connection: Connection, import_id: int, batch: rules.CheckedRows) -> None:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY trainee_import_rows ({', '.join(_ROW_COLUMNS)}) FROM STDIN (NULL '')") as copy:
            copy.write(_copy_payload(import_id, batch))
    finally:
        cursor.close()


def _insert_batch(connection: Connection, import_id: int, batch: rules.CheckedRows) -> None:
    connection.execute(insert(TraineeImportRow.__table__), [
        {"import_id": import_id, "row_number": r.row, "ok": r.ok, "full_name": r.full_name,
         "phone_e164": r.phone_e164, "email": r.email, "job_title": r.job_title,
         "employee_code": r.employee_code, "department": r.department, "id_number": r.id_number,
         "date_of_birth": r.date_of_birth, "errors": r.stored_problems()}
        for r in batch.results()
    ])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_payload(import_id: int, batch: rules.CheckedRows) -> str:
    """The batch in COPY text format, where an empty field is a NULL (the COPY says NULL ''; the rules keep
    no empty strings: a blank value is None).

    The lines are formatted with their values as they are, and counted: a value holding a tab, a line
    break or a backslash (rare: a quoted CSV field) shows up as a line with too many separators, or a
    backslash anywhere, and only then is every value of the batch escaped."""
    clean, learners = batch.clean, batch.clean_learners
    others = [_result_values(r) for r in batch.others]
    body = _copy_text(import_id, clean, learners, others)
    lines = len(clean) + len(learners) + len(others)
    if (body.count("\t") != (len(_ROW_COLUMNS) - 1) * lines or body.count("\n") != lines or "\\" in body
            or "\r" in body):
        body = _copy_text(import_id, [(row, *(v.translate(_COPY_ESCAPES) for v in values))
                                      for row, *values in clean],
                          [(row, *(v.translate(_COPY_ESCAPES) for v in values)) for row, *values in learners],
                          [tuple(v.translate(_COPY_ESCAPES) for v in values) for values in others])
    return body


def _copy_text(import_id: int, clean: list[Any], learners: list[Any], others: list[tuple[str, ...]]) -> str:
    lines = [f"{import_id}\t{row}\tt\t{name}\t{phone}\t{email}\t{job}\t{code}\t{department}\t\t\t"
             for row, name, phone, email, job, code, department in clean]
    lines += [f"{import_id}\t{row}\tt\t{name}\t{phone}\t{email}\t\t\t\t{id_number}\t{born}\t"
              for row, name, phone, email, id_number, born in learners]
    lines += [f"{import_id}\t" + "\t".join(values) for values in others]
    return "\n".join(lines) + "\n"


def _result_values(r: rules.RowResult) -> tuple[str, ...]:
    """A row result's columns after import_id, as COPY text with "" for NULL (in _ROW_COLUMNS order). The problems
    go as orjson writes them (the column is jsonb: PostgreSQL keeps the value, not the text): compact, letters as
    they are (no \\u escapes, which would send the batch down the escaping path for every accent)."""
    problems = r.stored_problems()
    return (str(r.row), "t" if r.ok else "f", r.full_name or "", r.phone_e164 or "", r.email or "",
            r.job_title or "", r.employee_code or "", r.department or "", r.id_number or "",
            r.date_of_birth.isoformat() if r.date_of_birth else "",
            orjson.dumps(problems).decode() if problems else "")


VALIDATION_LOCK_SPACE = 3_0001  # pg advisory lock key space for "validating import N"


@contextmanager
def validation_guard(engine: Engine, import_id: int) -> Iterator[bool]:
    """Yields True if another process holds this import's validation lock (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        yield False
        return
    with engine.connect() as guard:
        got = guard.execute(select(func.pg_try_advisory_lock(VALIDATION_LOCK_SPACE, import_id))).scalar()
        guard.commit()
        try:
            yield not got
        finally:
            if got:
                guard.execute(select(func.pg_advisory_unlock(VALIDATION_LOCK_SPACE, import_id)))
                guard.commit()


def insert_trainees(session: Session, import_id: int, cohort_id: int, *, only: ColumnElement[bool] | None = None,
                    on_conflict_do_nothing: bool) -> int:
    """The import's valid rows (those `only` keeps, if given) as the cohort's trainees; returns how many."""
    rows = TraineeImportRow
    source = select(
        literal(cohort_id), rows.full_name, rows.phone_e164, rows.email, rows.job_title, rows.employee_code,
        rows.department, literal(import_id), true(), func.now() if is_postgres(session) else literal(clock.now()),
    ).where(rows.import_id == import_id, rows.ok.is_(True))
    if only is not None:
        source = source.where(only)
    dialect = postgresql if is_postgres(session) else sqlite
    stmt = dialect.insert(CorporateTrainee.__table__).from_select(
        ["cohort_id", "full_name", "phone_e164", "email", "job_title", "employee_code", "department",
         "import_id", "active", "created_at"], source,
    )
    if on_conflict_do_nothing:
        stmt = stmt.on_conflict_do_nothing()
    return int(session.connection().execute(stmt.execution_options(preserve_rowcount=True)).rowcount)
