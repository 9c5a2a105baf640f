"""What scheduling writes differently on PostgreSQL and SQLite, side by side; the use cases never branch.

- Writing many sessions: PostgreSQL draws their ids from the sequence in one query and COPYs them (the
  exclusion constraints still check every row); SQLite takes multi-row INSERTs.
- Progress of a background run: PostgreSQL reports it from a second connection, so readers see it while
  the run's one transaction is open; SQLite has a single writer, which the run holds, so it skips.
- Calendar event versions: an upsert (INSERT … ON CONFLICT DO UPDATE), in each dialect's insert construct.
- Errors: PostgreSQL's exclusion-constraint violation (two writers racing for one room) and deadlock
  (two such writers each waiting for the other's rows) are recognised here, wrapped or bare (COPY).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import clock
from core.db import is_postgres
from core.models import ClassSession, SessionStatus
from core.models.sessions import CalendarEventVersion, ScheduleRun

from .planner import PlannedSession

EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"
INSERT_CHUNK = 2000
COPY_COLUMNS = ("id", "institution_id", "cohort_id", "session_date", "start_time", "end_time", "starts_at", "ends_at",
                "slot", "session_type", "room_id", "instructor_id", "status", "is_locked", "created_at", "updated_at")

Progress = Callable[[int, int], None]


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)  # SQLAlchemy wraps driver errors; COPY raises them bare
    return getattr(orig, "sqlstate", None)


def is_exclusion_violation(exc: BaseException) -> bool:
    return _sqlstate(exc) == EXCLUSION_VIOLATION


def is_deadlock(exc: BaseException) -> bool:
    return _sqlstate(exc) == DEADLOCK_DETECTED


def violated_constraint(exc: BaseException) -> str | None:
    return getattr(getattr(getattr(exc, "orig", exc), "diag", None), "constraint_name", None)


def insert_sessions(session: Session, institution_id: int, planned: Sequence[PlannedSession],
                    progress: Progress | None = None) -> list[int]:
    """Write planned sessions in the session's transaction; returns their ids in plan order."""
    if not planned:
        return []
    if is_postgres(session):
        return _copy_sessions(session, institution_id, planned, progress)
    table = ClassSession.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    rows = _rows(institution_id, planned)
    for start in range(0, len(rows), INSERT_CHUNK):
        ids += session.scalars(stmt, rows[start:start + INSERT_CHUNK]).all()
        if progress is not None:
            progress(len(ids), len(rows))
    return ids


def _rows(institution_id: int, planned: Sequence[PlannedSession]) -> list[dict[str, Any]]:
    now = clock.now()
    return [{
        "institution_id": institution_id, "cohort_id": p.cohort_id, "session_date": p.session_date,
        "start_time": p.start_time, "end_time": p.end_time, "starts_at": p.starts_at, "ends_at": p.ends_at,
        "slot": p.slot, "session_type": p.session_type, "title": None, "room_id": p.room_id,
        "instructor_id": p.instructor_id, "location": None, "notes": None, "status": SessionStatus.SCHEDULED,
        "is_locked": False, "created_at": now, "updated_at": now,
    } for p in planned]


def _copy_sessions(session: Session, institution_id: int, planned: Sequence[PlannedSession],
                   progress: Progress | None) -> list[int]:
    ids = sorted(session.scalars(
        text("SELECT nextval(pg_get_serial_sequence('class_sessions', 'id')) FROM generate_series(1, :n)"),
        {"n": len(planned)}).all())
    now = clock.now()
    scheduled = SessionStatus.SCHEDULED.value
    raw = session.connection().connection.driver_connection  # the same connection, the same transaction
    copy_sql = f"COPY class_sessions ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor:
        for start in range(0, len(planned), INSERT_CHUNK):
            with cursor.copy(copy_sql) as copy:
                for sid, p in zip(ids[start:start + INSERT_CHUNK], planned[start:start + INSERT_CHUNK], strict=True):
                    copy.write_row((sid, institution_id, p.cohort_id, p.session_date, p.start_time, p.end_time,
                                    p.starts_at, p.ends_at, p.slot, p.session_type.value, p.room_id, p.instructor_id,
                                    scheduled, False, now, now))
            if progress is not None:
                progress(min(start + INSERT_CHUNK, len(planned)), len(planned))
    return ids


def report_progress(session: Session, run_id: int, percent: int) -> None:
    """A background run's progress, visible to readers before the run's transaction commits."""
    if not is_postgres(session):
        return
    with session.get_bind().connect() as conn, conn.begin():
        conn.execute(update(ScheduleRun).where(ScheduleRun.id == run_id).values(progress=percent))


def save_event_versions(session: Session, versions: list[dict[str, Any]]) -> None:
    """Insert or replace each session's calendar event version (fingerprint, sequence, modified_at)."""
    upsert = (postgresql if is_postgres(session) else sqlite).insert(CalendarEventVersion)
    session.execute(upsert.on_conflict_do_update(
        index_elements=["session_id"],
        set_={"fingerprint": upsert.excluded.fingerprint, "sequence": upsert.excluded.sequence,
              "modified_at": upsert.excluded.modified_at}), versions)
