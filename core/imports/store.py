"""What imports write differently on PostgreSQL and SQLite, side by side; the use cases never branch.

- Row results: PostgreSQL takes each batch by COPY (without waiting for the WAL flush: a redelivered
  validation redoes them anyway); SQLite takes a multi-row INSERT.
- One validation at a time per import: a PostgreSQL advisory lock held on its own connection (it goes
  with the connection if the worker dies); SQLite serializes every writer already.
- Committing trainees: one INSERT … SELECT from the valid rows, optionally ON CONFLICT DO NOTHING, in
  each dialect's own insert construct.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, func, insert, literal, select, text, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from core import clock
from core.db import is_postgres
from core.models import CorporateTrainee, TraineeImportRow

from . import rules

_ROW_COLUMNS = ("import_id", "row_number", "ok", "full_name", "phone_e164", "email", "job_title",
                "employee_code", "department", "id_number", "date_of_birth", "errors")


def write_row_results(connection: Connection, import_id: int, batch: list[rules.RowResult]) -> None:
    """One batch of row results, in the connection's open transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY trainee_import_rows ({', '.join(_ROW_COLUMNS)}) FROM STDIN") as copy:
            copy.write(_copy_payload(import_id, batch))
        return
    connection.execute(insert(TraineeImportRow.__table__), [
        {"import_id": import_id, "row_number": r.row, "ok": r.ok, "full_name": r.full_name,
         "phone_e164": r.phone_e164, "email": r.email, "job_title": r.job_title,
         "employee_code": r.employee_code, "department": r.department, "id_number": r.id_number,
         "date_of_birth": r.date_of_birth, "errors": r.stored_problems()}
        for r in batch
    ])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_payload(import_id: int, batch: list[rules.RowResult]) -> str:
    """The batch in COPY text format, escaped with one translate() call for the whole batch.

    Values come from a CSV reader, which refuses NUL, so every NUL in the joined text is ours:
    NUL+"S" separates columns, NUL+"N" is a NULL, NUL+"R" ends a row."""
    null, sep = "\x00N", "\x00S"
    lines = []
    for r in batch:
        lines.append(sep.join((
            str(import_id), str(r.row), "t" if r.ok else "f",
            null if r.full_name is None else r.full_name, null if r.phone_e164 is None else r.phone_e164,
            null if r.email is None else r.email, null if r.job_title is None else r.job_title,
            null if r.employee_code is None else r.employee_code, null if r.department is None else r.department,
            null if r.id_number is None else r.id_number,
            null if r.date_of_birth is None else r.date_of_birth.isoformat(),
            json.dumps(problems) if (problems := r.stored_problems()) else null,
        )))
    body = "\x00R".join(lines)
    if _COPY_SPECIAL.search(body):  # most batches have no backslash, tab or line break at all
        body = body.translate(_COPY_ESCAPES)
    return body.replace("\x00N", "\\N").replace("\x00S", "\t").replace("\x00R", "\n") + "\n"


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
