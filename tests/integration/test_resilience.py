"""The app survives a PostgreSQL restart and the worker survives a Redis restart — for real.

Each test starts its own private server (a throwaway PostgreSQL cluster, a Redis on a free port) so
that restarting it disturbs nothing else on the machine.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, free_port, test_settings, worker_environment

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)


def _wait(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


class PrivatePostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self._as_postgres([f"{PG_BIN}/initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"])

    def _as_postgres(self, argv: list[str]) -> None:
        # No pipes: the server would inherit them and keep run() waiting for EOF forever.
        subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pg_ctl(self, action: str) -> None:
        self._as_postgres([f"{PG_BIN}/pg_ctl", "-D", str(self.dir / "data"), "-w", "-m", "fast",
                           "-l", str(self.dir / "server.log"),
                           "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", action])

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not PG_BIN or not shutil.which("runuser") or os.geteuid() != 0:
        if IN_CI:
            raise AssertionError("PostgreSQL server binaries are needed in CI")
        pytest.skip("needs PostgreSQL server binaries and root to start a private cluster")
    pg = PrivatePostgres()
    pg.pg_ctl("start")
    yield pg
    try:
        pg.pg_ctl("stop")
    finally:
        shutil.rmtree(pg.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        _wait(lambda: redis.Redis(port=self.port).ping())

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if not shutil.which("redis-server"):
        if IN_CI:
            raise AssertionError("redis-server is needed in CI")
        pytest.skip("needs redis-server to start a private Redis")
    r = PrivateRedis()
    r.start()
    yield r
    r.stop()


def test_app_survives_a_postgres_restart(private_postgres):
    from web import create_app

    application = create_app(test_settings(SQLALCHEMY_DATABASE_URI=private_postgres.url))
    client = application.test_client()
    assert client.get("/api/health").status_code == 200  # the pool now holds a connection
    private_postgres.pg_ctl("restart")
    # pool_pre_ping notices the dead connection and opens a new one: no error reaches the user.
    assert client.get("/api/health").status_code == 200


def test_worker_resumes_consuming_after_a_redis_restart(private_redis, app):
    from web import create_app

    broker_app = create_app(test_settings(CELERY_BROKER_URL=private_redis.url, CELERY_RESULT_BACKEND=private_redis.url))
    celery_app = broker_app.extensions["celery"]
    env = worker_environment(CELERY_BROKER_URL=private_redis.url, CELERY_RESULT_BACKEND=private_redis.url)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        with broker_app.app_context():
            assert celery_app.send_task("system.ping", args=["before"]).get(timeout=60)["pong"] == "before"
            private_redis.stop()
            private_redis.start()
            assert celery_app.send_task("system.ping", args=["after"]).get(timeout=90)["pong"] == "after"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
