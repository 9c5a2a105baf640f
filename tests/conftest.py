"""Shared fixtures: a real database (PostgreSQL in CI, SQLite on the embedded default), a real broker
(Redis in CI, the SQLite transport otherwise), a real Celery worker, and signed-in clients per role.

Environment:
  TEST_DATABASE_URL  default postgresql+psycopg://postgres@127.0.0.1:5432/attendance_test when
                     PostgreSQL answers, else a SQLite file (the embedded default)
  TEST_REDIS_URL     default redis://127.0.0.1:6379/15 when Redis answers, else the SQLite broker
  CI=true            a missing PostgreSQL/Redis/Chromium fails the run instead of skipping

The clock (issue 26): the whole suite runs at one stated instant, `SUITE_INSTANT` (Tuesday 17 November 2026,
10:30 in Algiers, 11:30 in Johannesburg), whatever the wall clock says. The test process, its live server and
worker threads, and every worker subprocess (`worker_environment`: `CLOCK_FROZEN_AT` + `CLOCK_FROZEN_SINCE`)
read that instant at the same real moment and run on from there, so they agree. A test whose outcome depends
on another hour says so: `@pytest.mark.clock_at("2026-11-17T23:05", zone="Africa/Algiers")`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core import clock

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

SUITE_INSTANT = clock.parse_instant("2026-11-17T09:30:00+00:00")
clock.pin(SUITE_INSTANT)
TMP = Path(tempfile.mkdtemp(prefix="attendance-tests-"))


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _database_url() -> str:
    if url := os.environ.get("TEST_DATABASE_URL"):
        return url
    if _port_open("127.0.0.1", 5432):
        return "postgresql+psycopg://postgres@127.0.0.1:5432/attendance_test"
    return f"sqlite:///{TMP / 'test.sqlite'}"


def _broker_url() -> str:
    if url := os.environ.get("TEST_REDIS_URL"):
        return url
    if _port_open("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/15"
    return f"sqla+sqlite:///{TMP / 'broker.sqlite'}"


DATABASE_URL = _database_url()
BROKER_URL = _broker_url()
ON_POSTGRES = DATABASE_URL.startswith("postgresql")
ON_REDIS = BROKER_URL.startswith("redis")
RESULT_BACKEND = BROKER_URL if ON_REDIS else f"db+sqlite:///{TMP / 'results.sqlite'}"

if IN_CI and not (ON_POSTGRES and ON_REDIS):
    raise pytest.UsageError(f"CI must run on PostgreSQL and Redis (got {DATABASE_URL!r}, {BROKER_URL!r}).")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (running on the embedded SQLite default)")
    skip_redis = pytest.mark.skip(reason="needs Redis (running on the embedded SQLite broker)")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not ON_REDIS:
            item.add_marker(skip_redis)


def test_settings(**overrides: Any) -> dict[str, Any]:
    """Settings for an app under test (also used to build worker subprocess environments)."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_DIR": str(TMP / "instance"),
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_RESULT_BACKEND": RESULT_BACKEND,
        "STORAGE_DIR": str(TMP / "private"),
        "MAIL_FILE_DIR": str(TMP / "mail"),
        "BASE_URL": "http://testserver",
        "WTF_CSRF_ENABLED": False,
        "LISTEN_ADDRESS": "127.0.0.1",  # the test client calls the app in-process
        "API_VALIDATE_RESPONSES": True,  # every response the suite sees is checked against its schema
        **_clock_settings(),
    }
    settings.update(overrides)
    return settings


test_settings.__test__ = False  # a helper, not a test


def _clock_settings() -> dict[str, Any]:
    """The clock in force (the suite's, or a test's own `clock_at`), for an app or a process the test starts."""
    pinned = clock.pinning()
    if pinned is None:
        return {"CLOCK_FROZEN_AT": None, "CLOCK_FROZEN_SINCE": None}
    return {"CLOCK_FROZEN_AT": pinned[0].isoformat(), "CLOCK_FROZEN_SINCE": pinned[1]}


def worker_environment(**extra: str) -> dict[str, str]:
    """Environment for `celery -A workers.celery_app worker` subprocesses on the test database, reading the
    test's clock (`APP_ENV=testing` is what lets a worker honour `CLOCK_FROZEN_AT`)."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in _clock_settings().items() if v is not None})
    env.update({
        "APP_ENV": "testing",
        "DATABASE_URL": DATABASE_URL, "CELERY_BROKER_URL": BROKER_URL, "CELERY_RESULT_BACKEND": RESULT_BACKEND,
        "INSTANCE_DIR": str(TMP / "instance"), "STORAGE_DIR": str(TMP / "private"),
        "MAIL_FILE_DIR": str(TMP / "mail"), "SECRET_KEY": "test-secret",
    })
    env.update(extra)
    return env


def wall_clock_environment() -> dict[str, str]:
    """This process's environment without a moved wall clock (`faketime … bin/test` preloads libfaketime): for
    the servers a test starts of its own (a private Redis), which, like the machine's, run on the real time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKETIME", "DONT_FAKE"))}
    preload = [lib for lib in env.pop("LD_PRELOAD", "").split(":") if lib and "faketime" not in lib]
    return {**env, "LD_PRELOAD": ":".join(preload)} if preload else env


def _reset_database() -> None:
    url = make_url(DATABASE_URL)
    if ON_POSTGRES:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": url.database})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    elif url.database:
        Path(url.database).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    """One app for the whole run, on a database built by the real migrations."""
    from flask_migrate import upgrade

    from web import create_app

    _reset_database()
    if ON_REDIS:
        import redis

        redis.Redis.from_url(BROKER_URL).flushdb()
    application = create_app(test_settings())
    with application.app_context():
        upgrade()
    yield application


@pytest.fixture(autouse=True)
def _seal_keys() -> Iterator[None]:
    """A test that builds an app of its own (another SECRET_KEY or SEAL_KEY_SECRET) makes its seal key this
    process's current one (core.seals.keys); the next tests get the suite's back, the one its workers use."""
    from core.seals import keys

    saved = list(keys._keys)
    yield
    keys._keys[:] = saved


@pytest.fixture(autouse=True)
def _clock_at(request: pytest.FixtureRequest) -> Iterator[None]:
    """`@pytest.mark.clock_at("YYYY-MM-DDTHH:MM", zone=…)`: the test runs with the clock reading that local
    instant (and running on), in this process and in whatever it starts; otherwise the suite's instant."""
    if request.node.get_closest_marker("real_clock") is not None:
        with clock.wall_clock():
            yield
        return
    marker = request.node.get_closest_marker("clock_at")
    if marker is None:
        yield
        return
    local = dt.datetime.fromisoformat(marker.args[0]).replace(tzinfo=ZoneInfo(marker.kwargs.get("zone", "UTC")))
    with clock.pinned_at(local):
        yield


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that touches the database starts from empty tables (works across processes too).

    It also makes the session app's Celery the default again: a test that builds another app (on a
    private broker, say) would otherwise leave shared tasks sending there.
    """
    if "app" in request.fixturenames:
        session_celery = request.getfixturevalue("app").extensions["celery"]
        session_celery.set_default()
        session_celery.set_current()
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    from web.extensions import db

    with application.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        # The live worker may still be finishing a task a request enqueued: on a deadlock, try again.
        for attempt in range(10):
            try:
                with db.engine.begin() as conn:
                    if ON_POSTGRES:
                        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                    else:
                        # Issued invoices refuse deletion (migration 0021's triggers; TRUNCATE skips them on
                        # PostgreSQL): dropped for the wipe, put back after it.
                        frozen = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                                   "AND name LIKE '%frozen%'")).all()
                        for trigger, _sql in frozen:
                            conn.execute(text(f"DROP TRIGGER {trigger}"))
                        for name in reversed(tables):
                            conn.execute(text(f"DELETE FROM {name}"))
                        for _trigger, sql in frozen:
                            conn.execute(text(sql))
                break
            except OperationalError:
                if attempt == 9:
                    raise
                time.sleep(0.2 * (attempt + 1))


@pytest.fixture
def db_session(app: Flask) -> Iterator[Any]:
    from web.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture
def sql(app: Flask) -> Iterator[Any]:
    """A plain session on the test database that does NOT keep an app context pushed.

    While `db_session` holds its app context, test-client requests reuse it, so Flask-Login's user cached
    in `g` by the first request leaks into the next ones (a request as another user runs as the first).
    """
    from sqlalchemy.orm import Session

    from web.extensions import db

    with app.app_context():
        engine = db.engine
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def demo_zone() -> str:
    """The demo institution's time zone (a test may parametrize `demo_zone` to move it)."""
    return "Africa/Algiers"


@pytest.fixture
def demo(app: Flask, demo_zone: str) -> dict[str, Any]:
    """The demo institution, built at the clock's instant: ids, plus `users` by short name (admin, teacher,
    support, org, regulator…)."""
    from sqlalchemy import select

    from core.demo import load_demo_data
    from core.models import User
    from web.extensions import db

    with app.app_context():
        ids = load_demo_data(db.session, demo_zone)
        users = {u.email.split("@")[0]: u.id for u in db.session.scalars(select(User))}
        db.session.remove()
    return {**ids, "users": users}


@pytest.fixture
def johannesburg(app: Flask, demo: dict[str, Any]) -> dict[str, Any]:
    """A second provider, in Johannesburg (country ZA by its time zone), beside the demo: its admin (password
    `demo-password`), an organization, and the admin's API `headers`."""
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.access.passwords import hash_password
    from core.models import Institution, Organization, User
    from web.extensions import db

    with app.app_context():
        inst = Institution(name="Jozi Skills", slug="jozi", time_zone="Africa/Johannesburg")
        db.session.add(inst)
        db.session.flush()
        admin = User(institution_id=inst.id, email="admin@jozi.example", full_name="Jo Admin", role="admin",
                     password_hash=hash_password("demo-password"))
        org = Organization(institution_id=inst.id, name="Sasol Training")
        db.session.add_all([admin, org])
        db.session.commit()
        ids = {"institution": inst.id, "admin": admin.id, "organization": org.id, "country": inst.country}
        token = create_api_token(db.session, admin, CreateApiToken(name="t"))
        db.session.remove()
    return {**ids, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, email: str, password: str = "demo-password") -> Any:
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def login(app: Flask, demo: dict[str, Any]) -> Any:
    """`login("teacher")` → a test client signed in as that demo user."""

    def _login(name: str) -> FlaskClient:
        c = app.test_client()
        response = sign_in(c, f"{name}@demo.example")
        assert response.status_code == 302, response.data
        return c

    return _login


@pytest.fixture
def api(app: Flask, demo: dict[str, Any]) -> Any:
    """`api("admin")` → headers with a fresh Bearer token for that demo user."""
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User
    from web.extensions import db

    def _headers(name: str) -> dict[str, str]:
        with app.app_context():
            token = create_api_token(db.session, db.session.get(User, demo["users"][name]),
                                     CreateApiToken(name="test"))
            db.session.remove()
        return {"Authorization": f"Bearer {token}"}

    return _headers


@pytest.fixture(scope="session")
def live_worker(app: Flask) -> Iterator[Any]:
    """A real Celery worker (solo pool, in-process thread) consuming from the real test broker."""
    from celery.contrib.testing.worker import start_worker

    import workers.signals  # noqa: F401

    celery_app = app.extensions["celery"]
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10.0,
                      loglevel="WARNING") as worker:
        yield worker


@pytest.fixture(autouse=True)
def _jobs_outbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, ...]]]:
    """Jobs the services enqueue are recorded, not sent, unless a worker is there to run them (the test uses
    `live_worker` or is marked `real_broker`): a message left on the shared test broker would otherwise be run
    by the live worker in a later test, on a row that happens to have the same id."""
    from core.jobs.outbox import broker

    calls: list[tuple[str, tuple[int, ...]]] = []
    if "live_worker" not in request.fixturenames and request.node.get_closest_marker("real_broker") is None:
        monkeypatch.setattr(broker, "publish", lambda name, entity_id, queue: calls.append((name, (entity_id,))))
    return calls


@pytest.fixture
def published(_jobs_outbox: list[tuple[str, tuple[int, ...]]]) -> list[tuple[str, tuple[int, ...]]]:
    """Jobs handed to the broker, recorded instead of sent: (task name, (row id,)). No worker runs them."""
    return _jobs_outbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Any, timeout: float = 60, every: float = 0.05) -> Any:
    """The predicate's first truthy value, polled every `every` seconds; fails after `timeout` (a wait-for, never
    a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")
