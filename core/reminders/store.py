"""What reminders write differently on PostgreSQL and SQLite: INSERT … ON CONFLICT DO NOTHING.

Both dialects have it, under their own insert construct; the use cases call `insert_ignore` and never
branch. The unique keys (one reminder per session, recipient and kind; one flag per open risk) make a
second run add nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: type, rows: list[dict[str, Any]]) -> int:
    """Insert `rows`, skipping any a unique key already holds; returns how many went in."""
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = session.execute(dialect.insert(model).values(rows).on_conflict_do_nothing())
    return int(result.rowcount or 0)
