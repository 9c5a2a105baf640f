"""The job runtime's SQL that differs by database, PostgreSQL and SQLite side by side: one sweep at a time, and
a worker's heartbeat row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import clock
from core.db import is_postgres
from core.models import WorkerHeartbeat

SWEEP_LOCK = 13_0001  # pg advisory lock: one sweep at a time, whatever beat does


def sweep_lock(session: Session) -> bool:
    """Take the one-sweep-at-a-time lock for this transaction; False if another sweep holds it. PostgreSQL: an
    advisory lock. SQLite serializes writers (and runs one beat), so the sweep just goes ahead."""
    if not is_postgres(session):
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(SWEEP_LOCK))))


def record_worker(engine: Engine, hostname: str, queues: Sequence[str], pid: int, started_at: dt.datetime) -> None:
    """Upsert this worker's heartbeat row (INSERT … ON CONFLICT, in each dialect's own construct)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    now = clock.now()
    stmt = dialect.insert(WorkerHeartbeat.__table__).values(
        hostname=hostname[:200], queues=",".join(queues)[:200], pid=pid, started_at=started_at, seen_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["hostname"],
                                      set_={"queues": stmt.excluded.queues, "pid": pid, "seen_at": now,
                                            "started_at": started_at})
    with engine.begin() as connection:
        connection.execute(stmt)
