"""What every benchmark script shares: its arguments (`--db`, `--host`), its Redis (BENCH_REDIS_URL), a fresh
PostgreSQL database per run, the app built on it, percentiles, the bare statement's SQL replayed, and the table
it prints between the load average before and after.

A bench's own figure is always printed beside a bare figure measured in the same run, and the table says what
"bare" means there: on a shared machine only the ratio of the two is comparable from one run to the next.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOST = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


# --- arguments, database, Redis, load ----------------------------------------------------------------------------

def bench_parser(doc: str | None, default_db: str) -> argparse.ArgumentParser:
    """An argument parser with the options every bench takes: `--db` (a database name on `--host`, or a whole
    URL; dropped and recreated by the run) and `--host`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=default_db,
                        help=f"database name on --host, or a whole URL; dropped and recreated (default {default_db})")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"PostgreSQL server URL (default {DEFAULT_HOST})")
    return parser


def database_url(args: argparse.Namespace) -> str:
    return args.db if "://" in args.db else f"{args.host.rstrip('/')}/{args.db}"


def redis_url() -> str:
    """BENCH_REDIS_URL, or redis://127.0.0.1:6379/15 when it is unset."""
    return os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def load_average() -> str:
    """The machine is shared: every run states how loaded it was (1, 5, 15 min)."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Run:
    """One bench run: where it writes, the load average when it started, and its table."""

    db_url: str
    redis_url: str
    load_before: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def report(self, bare: str, result_width: int = 58, third: str = "target") -> None:
        """The table, what "bare" means in it, and the load average before and after the run."""
        print_table(self.rows, result_width, third)
        print(f"\nbare: {bare}")
        print(f"load average (1, 5, 15 min) before: {self.load_before}; after: {load_average()} "
              f"({os.cpu_count()} CPUs, shared: read the figures against it)")


def start(args: argparse.Namespace, *, recreate: bool = True) -> Run:
    """Say which database and Redis this run uses and how loaded the machine is; recreate the database."""
    run = Run(database_url(args), redis_url(), load_average())
    source = "BENCH_REDIS_URL" if os.environ.get("BENCH_REDIS_URL") else "BENCH_REDIS_URL unset: the default"
    print(f"database {run.db_url}\nredis {run.redis_url} ({source})\nload average before: {run.load_before}",
          flush=True)
    if recreate:
        recreate_database(run.db_url)
    return run


def recreate_database(url: str) -> None:
    """Drop and create the database named in `url` (never one the tests or the app use)."""
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                          "AND pid <> pg_backend_pid()"), {"n": u.database})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}"'))
        conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def app_settings(run: Run, instance: str) -> dict[str, Any]:
    """The settings every bench gives the app: its database, its Redis as broker and result store."""
    return {"SQLALCHEMY_DATABASE_URI": run.db_url, "INSTANCE_DIR": instance, "SECRET_KEY": "bench",
            "CELERY_BROKER_URL": run.redis_url, "CELERY_RESULT_BACKEND": run.redis_url}


def server_env(run: Run, instance: str) -> dict[str, str]:
    """The environment of a process the bench starts (gunicorn, celery): the same settings."""
    return dict(os.environ, DATABASE_URL=run.db_url, INSTANCE_DIR=instance, SECRET_KEY="bench",
                CELERY_BROKER_URL=run.redis_url, CELERY_RESULT_BACKEND=run.redis_url)


def free_port() -> int:
    """A free TCP port on loopback. (Not tests.conftest's: importing it pins the clock to the suite's instant.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving the real app on loopback, on the run's database and Redis."""

    def __init__(self, run: Run, instance: str, workers: int = 3, threads: int = 4) -> None:
        self.port = free_port()
        env = dict(server_env(run, instance), APP_ENV="development")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", str(threads), "--log-level", "warning", "web:create_app()"],
            cwd=ROOT, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/api/health", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def build_app(run: Run, instance: str, **overrides: Any) -> Any:
    """The real app on the run's database and Redis, its schema built by the real migrations."""
    os.environ.update({"DATABASE_URL": run.db_url, "INSTANCE_DIR": instance, "SECRET_KEY": "bench"})
    from flask_migrate import upgrade

    from web import create_app

    app = create_app({**app_settings(run, instance), **overrides})
    with app.app_context():
        upgrade()
    return app


# --- figures -------------------------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 50):7.1f}  p95 {pct(values, 95):7.1f}  max {max(values):7.1f} ms"


def ratio(own: float, bare: float) -> str:
    return f"{own / bare:.2f}× bare" if bare else "bare took no time"


def print_table(rows: list[tuple[str, str, str]], result_width: int = 58, third: str = "target") -> None:
    """measure · result · target (or `third`), one row each."""
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'result':<{result_width}}  {third}")
    print("-" * (width + result_width + 12))
    for name, result, target in rows:
        print(f"{name:<{width}}  {result:<{result_width}}  {target}")


# --- the bare SQL of a request -------------------------------------------------------------------------------------

def captured_statements(engine: Engine, request: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SQL statements (with their driver parameters) that `request()` runs on `engine`, in order."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        if not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements


def replay_ms(engine: Engine, statements: list[tuple[str, Any]], runs: int) -> list[float]:
    """The bare SQL: the same statements replayed on one connection, no app around them (ms per replay, each
    in a transaction rolled back)."""
    times = []
    with engine.connect() as conn:
        for _ in range(runs + 2):  # two to warm the connection and the plans
            t0 = time.perf_counter()
            for statement, parameters in statements:
                result = conn.exec_driver_sql(statement, parameters) if parameters else conn.exec_driver_sql(statement)
                if result.returns_rows:
                    result.fetchall()
            times.append((time.perf_counter() - t0) * 1000)
            conn.rollback()
    return times[2:]
