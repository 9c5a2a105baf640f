"""The check-in SQL that differs by database: recording an accepted attempt once per member and session
(ON CONFLICT DO NOTHING, PostgreSQL and SQLite alike through their dialects' insert)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import is_postgres
from core.models import CheckInAttempt


def record_accepted(session: Session, values: dict[str, Any]) -> bool:
    """Insert the accepted attempt unless the member already has one on this session (a resent check-in, or
    two at once from the same learner); True when inserted."""
    dialect_insert = postgresql.insert if is_postgres(session) else sqlite.insert
    stmt = dialect_insert(CheckInAttempt).values(accepted=True, **values).on_conflict_do_nothing(
        index_elements=["session_id", "member_type", "member_id"], index_where=CheckInAttempt.accepted)
    return bool(session.execute(stmt).rowcount)
