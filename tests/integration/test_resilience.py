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
from sqlalchemy import select

from tests.conftest import IN_CI, free_port, test_settings, wall_clock_environment, worker_environment

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
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=wall_clock_environment())
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


def test_every_route_answers_503_while_postgres_is_down_and_works_once_it_is_back(private_postgres):
    """A dropped database is the client's 503 with Retry-After (JSON for the API, a page for screens), never a
    500; once the server is back the same requests succeed, without restarting the app."""
    from flask_migrate import upgrade

    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.demo import load_demo_data
    from core.models import User
    from tests.web.test_permission_matrix import EXTENSION_ENDPOINTS, _client_for, _sample_values, _url
    from web import create_app
    from web.extensions import db

    application = create_app(test_settings(SQLALCHEMY_DATABASE_URI=private_postgres.url))
    with application.app_context():
        upgrade()
        ids = load_demo_data(db.session)
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.example"))
        token = {"Authorization": "Bearer " + create_api_token(db.session, admin, CreateApiToken(name="probe"))}
        demo = {**ids, "users": {"admin": admin.id}}
        db.session.remove()
    screens = _client_for(application, demo["users"]["admin"])
    urls = sorted({_url(application, rule, _sample_values(demo)) for rule in application.url_map.iter_rules()
                   if "GET" in (rule.methods or ()) and rule.endpoint not in EXTENSION_ENDPOINTS
                   and not rule.rule.startswith("/api/docs") and rule.rule != "/api/openapi.json"})

    def get(url: str):
        client = application.test_client() if url.startswith("/api/") else screens
        return client.get(url, headers=token if url.startswith("/api/") else {})

    assert get("/api/rooms").status_code == 200  # the pool holds live connections now
    private_postgres.pg_ctl("stop")
    try:
        down = {url: get(url) for url in urls}
        write = application.test_client().post("/api/rooms", json={"name": "Annex"}, headers=token)
    finally:
        private_postgres.pg_ctl("start")
    public_without_database = {"/api/docs", "/login", "/favicon.ico", "/api/health"}  # liveness: never the database
    ready = down.pop("/api/health/ready")  # the readiness probe answers 503 in its own words: which check failed
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"]["ok"] is False
    back = {url: get(url).status_code for url in urls if url != "/api/health/ready"}  # it also needs a worker
    assert [(url, status) for url, status in back.items() if status >= 500] == []
    # With a token remembered for a few seconds (core/access/token_cache), a call that needs no database (refused
    # by role, by its input, or answered from memory) answers as it does with the database up; the rest say 503.
    wrong = [(url, r.status_code) for url, r in down.items() if url not in public_without_database
             and r.status_code != back[url]
             and (r.status_code != 503 or r.headers.get("Retry-After") != "5"
                  or (url.startswith("/api/") and r.get_json()["error"]["code"] != "database_unavailable"))]
    assert len(urls) > 30 and wrong == []
    assert write.status_code == 503 and write.headers["Retry-After"] == "5"
    assert back["/api/rooms"] == 200 and back["/api/health"] == 200 and back["/admin"] == 200
    retried = application.test_client().post("/api/rooms", json={"name": "Annex"}, headers=token)
    assert retried.status_code == 201  # the refused write left nothing behind: the same one now succeeds
