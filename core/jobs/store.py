"""The job runtime's SQL that differs by database, PostgreSQL and SQLite side by side: one sweep at a time, and
a worker's heartbeat row."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from core import clock
from core.db import is_postgres
from core.models import WorkerHeartbeat

SWEEP_LOCK = 13_0001  # pg advisory lock: one sweep at a time, whatever beat does
JOB_LOCK_CLASS = 13_0002  # pg advisory lock (class, job id): held by the process running the job


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


class Ownership:
    """Who runs a job, tied to something that dies with its holder: on PostgreSQL a session advisory lock
    (JOB_LOCK_CLASS, job id) held on a connection of its own for as long as the task runs. A process killed
    by SIGKILL or the out-of-memory killer closes its connections, the server ends its session, and the lock
    is free at once: a re-delivered message takes the job over without waiting for its heartbeat to go stale.
    SQLite has no such lock: there the heartbeat alone says whether the holder lives (`held` is None)."""

    def __init__(self, engine: Engine, job_id: int) -> None:
        self.job_id = job_id
        self._connection = None
        self.held: bool | None = None
        if engine.dialect.name != "postgresql":
            return
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            self.held = bool(connection.scalar(select(func.pg_try_advisory_lock(JOB_LOCK_CLASS, job_id))))
        except Exception:
            connection.invalidate()
            connection.close()
            raise
        if self.held:
            connection.info[_HOLDS_JOB_LOCK] = True  # the pool unlocks it if it comes back still holding it
            self._connection = connection
        else:
            connection.close()

    def release(self) -> None:
        """Unlock and give the connection back; a connection that cannot unlock is thrown away (closing it
        ends its session, and the lock with it), never pooled with the lock still held."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.scalar(select(func.pg_advisory_unlock(JOB_LOCK_CLASS, self.job_id)))
            connection.info.pop(_HOLDS_JOB_LOCK, None)
        except Exception:
            connection.invalidate()
        finally:
            connection.close()


_HOLDS_JOB_LOCK = "holds_job_lock"


@event.listens_for(Pool, "checkin")
def _no_job_lock_back_in_the_pool(dbapi_connection: Any, record: Any) -> None:
    """A claim dropped without `release` (an error between claim and task, a test) returns its connection to the
    pool when collected: never with the job's lock still held, or the next user of that connection would hold
    it, and a re-delivered job would be skipped as running."""
    if not record.info.pop(_HOLDS_JOB_LOCK, False) or dbapi_connection is None:
        return
    with contextlib.suppress(Exception):  # a connection that cannot unlock is closed by the pool's reset anyway
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        finally:
            cursor.close()
