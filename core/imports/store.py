"""What imports write differently on PostgreSQL and SQLite, side by side; the use cases never branch.

- Row results: PostgreSQL streams the whole file through one COPY, in one transaction with the final
  status; SQLite takes a multi-row INSERT per batch (`row_sink`).
- One validation at a time per import: a PostgreSQL advisory lock held on its own connection (it goes
  with the connection if the worker dies); SQLite serializes every writer already.
- Committing trainees: one INSERT … SELECT from the valid rows, optionally ON CONFLICT DO NOTHING, in
  each dialect's own insert construct.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

import orjson
from sqlalchemy import ColumnElement, func, insert, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core import clock
from core.db import is_postgres
from core.models import CorporateTrainee, TraineeImportRow

from . import rules

_ROW_COLUMNS = ("import_id", "row_number", "ok", "full_name", "phone_e164", "email", "job_title",
                "employee_code", "department", "id_number", "date_of_birth", "errors")


# Commits a batch's progress (rows done, valid, invalid) on the connection it is given; False: cancelled.
Progress = Callable[[Connection, int, int, int], bool]
# Sets the final status in the connection's open transaction; False: the import left VALIDATING.
Finish = Callable[[Connection], bool]


class RowSink(Protocol):
    def add(self, batch: rules.CheckedRows, rows_done: int, valid: int, invalid: int) -> bool:
        """Progress committed, then the batch written; False (nothing written): the import was cancelled."""

    def finish(self, final: Finish) -> bool:
        """Every row written and the final status set; False: the import left VALIDATING meanwhile."""


@contextmanager
def row_sink(engine: Engine, import_id: int, progress: Progress) -> Iterator[RowSink]:
    """Where a validation's row results go, on connections of its own. Left without `finish`, nothing
    of the rows is kept on PostgreSQL (on SQLite the next attempt's claim deletes them)."""
    with ExitStack() as stack:
        connection = stack.enter_context(engine.connect())
        if engine.dialect.name != "postgresql":
            yield _InsertSink(connection, import_id, progress)
            return
        progress_connection = stack.enter_context(engine.connect().execution_options(isolation_level="AUTOCOMMIT"))
        _set(progress_connection, "SET synchronous_commit TO OFF")  # each update: one round trip, no WAL flush
        stack.callback(_set, progress_connection, "RESET synchronous_commit")
        sink = _CopySink(connection, progress_connection, import_id, progress)
        stack.callback(sink.abandon)  # before the connections go back to the pool
        yield sink


def _set(connection: Connection, statement: str) -> None:
    with connection.begin():
        connection.exec_driver_sql(statement)


class _Abandoned(Exception):
    """Ends a COPY that must not be kept (the validation stopped before `finish`)."""


class _CopySink:
    """PostgreSQL: one COPY streams the whole file's rows while they are checked (the server stores a
    batch while the next one is checked), in one transaction that also sets the final status: the rows
    appear together with VALIDATED or not at all, so a killed worker leaves nothing behind. Progress is
    committed on a second connection (autocommit) as it goes. Neither waits for the WAL flush: a lost
    validation is simply run again."""

    def __init__(self, connection: Connection, progress_connection: Connection, import_id: int,
                 progress: Progress) -> None:
        self.connection, self.progress_connection = connection, progress_connection
        self.import_id, self.progress = import_id, progress
        connection.begin()
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        self._cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._copying: Any = self._cursor.copy(
            f"COPY trainee_import_rows ({', '.join(_ROW_COLUMNS)}) FROM STDIN (NULL '')")
        self.copy = self._copying.__enter__()

    def add(self, batch: rules.CheckedRows, rows_done: int, valid: int, invalid: int) -> bool:
        if not self.progress(self.progress_connection, rows_done, valid, invalid):
            return False
        self.copy.write(_copy_payload(self.import_id, batch))
        return True

    def finish(self, final: Finish) -> bool:
        self._end_copy(None)
        if final(self.connection):
            self.connection.commit()
            return True
        self.connection.rollback()
        return False

    def abandon(self) -> None:
        """Whatever `finish` did not commit is rolled back (a finished sink has nothing left)."""
        if self._copying is not None:
            self._end_copy(_Abandoned("the validation stopped"))
        self._cursor.close()
        if self.connection.in_transaction():
            self.connection.rollback()

    def _end_copy(self, abandoned: _Abandoned | None) -> None:
        copying, self._copying = self._copying, None
        if abandoned is None:
            copying.__exit__(None, None, None)
        else:  # psycopg ends the COPY with an error: the server keeps none of it
            copying.__exit__(_Abandoned, abandoned, None)


class _InsertSink:
    """SQLite: each batch is a multi-row INSERT committed after its progress (SQLite has one writer at a
    time, so one long transaction would hold back the progress)."""

    def __init__(self, connection: Connection, import_id: int, progress: Progress) -> None:
        self.connection, self.import_id, self.progress = connection, import_id, progress

    def add(self, batch: rules.CheckedRows, rows_done: int, valid: int, invalid: int) -> bool:
        if not self.progress(self.connection, rows_done, valid, invalid):
            return False
        with self.connection.begin():
            self.connection.execute(insert(TraineeImportRow.__table__), [
                {"import_id": self.import_id, "row_number": r.row, "ok": r.ok, "full_name": r.full_name,
                 "phone_e164": r.phone_e164, "email": r.email, "job_title": r.job_title,
                 "employee_code": r.employee_code, "department": r.department, "id_number": r.id_number,
                 "date_of_birth": r.date_of_birth, "errors": r.stored_problems()}
                for r in batch.results()
            ])
        return True

    def finish(self, final: Finish) -> bool:
        with self.connection.begin():
            return final(self.connection)


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
