"""What every benchmark script shares: a fresh PostgreSQL database per run, the app built on it, percentiles."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


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


def build_app(url: str, instance: str) -> Any:
    """The real app on `url`, its schema built by the real migrations."""
    os.environ.update({"DATABASE_URL": url, "INSTANCE_DIR": instance, "SECRET_KEY": "bench"})
    from flask_migrate import upgrade

    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance})
    with app.app_context():
        upgrade()
    return app


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def print_table(rows: list[tuple[str, str, str]], result_width: int = 58) -> None:
    """measure · result · target, one row each."""
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'result':<{result_width}}  target")
    print("-" * (width + result_width + 12))
    for name, result, target in rows:
        print(f"{name:<{width}}  {result:<{result_width}}  {target}")
