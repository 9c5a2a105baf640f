"""Client-side limits on every wait for PostgreSQL, so a database that hangs is an error in seconds.

A partitioned or frozen server whose kernel (or a proxy in between) still acknowledges packets is not caught
by TCP keepalives or `tcp_user_timeout`, and `statement_timeout` is enforced by the very server that does not
answer. So the client bounds its own waits:

* connecting: libpq's `connect_timeout` (the whole start-up, authentication included);
* the check on checkout (our pre-ping): `SELECT 1` must answer within `ping_seconds`, else the connection is
  thrown away and a new one is opened (which `connect_timeout` bounds);
* each statement: within the server's `statement_timeout` plus a margin (`statement_seconds`);
* the rollback when a connection goes back to the pool: within `ping_seconds`;
* waiting for a pooled connection: the pool's `pool_timeout` (set with the engine options).

A wait past its limit is ended by a watchdog thread that shuts the connection's socket down: the blocked call
returns at once with an OperationalError (a lost connection), which the web layer answers with 503 and
Retry-After and the job runtime treats as transient.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger(__name__)


class Watchdog:
    """Shuts down the socket of a call that outlives its deadline. One thread per process, started on first use
    (and again after a fork: the child has no thread of its parent's)."""

    def __init__(self, every: float = 0.1) -> None:
        self.every = every
        self._armed: dict[int, tuple[float, int, int]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def arm(self, key: int, fd: int, seconds: float) -> None:
        self._ensure_running()
        self._armed[key] = (time.monotonic() + seconds, fd, _identity(fd))

    def disarm(self, key: int) -> None:
        self._armed.pop(key, None)

    def _ensure_running(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._armed.clear()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            now = time.monotonic()
            for key, armed in list(self._armed.items()):
                deadline, fd, identity = armed
                if now >= deadline and self._armed.get(key) == armed:
                    self._armed.pop(key, None)
                    if _identity(fd) == identity:  # still the same socket (a closed fd may be reused)
                        cut(fd)


def _identity(fd: int) -> int:
    try:
        return os.fstat(fd).st_ino
    except OSError:
        return -1


def cut(fd: int) -> None:
    """Shut a socket down under whoever is blocked on it: their read returns end-of-file at once."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
        log.warning("a database call passed its time limit: its connection was cut")
    except OSError:
        pass
    finally:
        sock.close()


WATCHDOG = Watchdog()


def _socket_of(dbapi_connection: Any) -> int | None:
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
    try:
        return int(pgconn.socket) if pgconn is not None else None
    except Exception:  # closed, or not a socket yet
        return None


def bounded_ping(dbapi_connection: Any, seconds: float) -> None:
    """`SELECT 1` within `seconds`; DisconnectionError otherwise (the pool then opens a new connection)."""
    fd = _socket_of(dbapi_connection)
    if fd is None:
        raise DisconnectionError("connection without a socket")
    WATCHDOG.arm(id(dbapi_connection), fd, seconds)
    try:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # no transaction left open by the ping (as SQLAlchemy's own does)
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit
    except Exception as exc:
        raise DisconnectionError(f"the database did not answer a ping: {exc}") from exc
    finally:
        WATCHDOG.disarm(id(dbapi_connection))


def bound_waits(engine: Engine, *, ping_seconds: float, statement_seconds: float) -> None:
    """Install the checkout ping and the per-statement limit on a PostgreSQL engine (use it instead of
    `pool_pre_ping`, which has no limit of its own)."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def fresh(dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True  # just opened: no need to ping it on this checkout

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.pop("fresh", False):
            return
        bounded_ping(dbapi_connection, ping_seconds)

    @event.listens_for(engine, "reset")
    def arm_reset(dbapi_connection: Any, record: Any, reset_state: Any = None) -> None:
        fd = _socket_of(dbapi_connection)  # the rollback on return to the pool: bounded like a ping
        if fd is not None:
            WATCHDOG.arm(id(dbapi_connection), fd, ping_seconds)

    @event.listens_for(engine, "checkin")
    def disarm_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            WATCHDOG.disarm(id(dbapi_connection))

    @event.listens_for(engine, "before_cursor_execute")
    def arm(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        fd = _socket_of(dbapi_connection)
        if fd is not None:
            WATCHDOG.arm(id(dbapi_connection), fd, statement_seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def disarm(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool) -> None:
        WATCHDOG.disarm(id(conn.connection.dbapi_connection))

    @event.listens_for(engine, "handle_error")
    def disarm_on_error(context: Any) -> None:
        connection = context.connection
        if connection is not None and not connection.closed:
            with contextlib.suppress(Exception):  # the connection may be invalidated already
                WATCHDOG.disarm(id(connection.connection.dbapi_connection))
