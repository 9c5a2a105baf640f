"""The SQL of finance that differs by database: the gap-free counter.

A number is taken in the issuing transaction: the counter row (institution, kind, year) is locked FOR UPDATE
(PostgreSQL), incremented, and the lock held until that transaction ends. A second issue in the same
institution and year waits for the first to commit or roll back; a rollback gives the number back, so the
sequence has no gap and no duplicate. SQLite has one writer at a time: the UPDATE comes first, so the
transaction holds the write lock before it reads the number.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import is_postgres

_CREATE = ("INSERT INTO finance_counters (institution_id, kind, year, last_number) VALUES (:i, :k, :y, 0) "
           "ON CONFLICT (institution_id, kind, year) DO NOTHING")
_LOCK = "SELECT last_number FROM finance_counters WHERE institution_id = :i AND kind = :k AND year = :y FOR UPDATE"
_BUMP = ("UPDATE finance_counters SET last_number = last_number + 1 "
         "WHERE institution_id = :i AND kind = :k AND year = :y")
_READ = "SELECT last_number FROM finance_counters WHERE institution_id = :i AND kind = :k AND year = :y"


def next_number(session: Session, institution_id: int, kind: str, year: int) -> int:
    """The next number of `kind` ("invoice", "credit_note") for the institution and year, in the caller's
    transaction (which must commit for the number to count)."""
    params = {"i": institution_id, "k": kind, "y": year}
    if is_postgres(session):
        current = session.execute(text(_LOCK), params).scalar()
        if current is None:
            session.execute(text(_CREATE), params)
            current = session.execute(text(_LOCK), params).scalar_one()
        session.execute(text(_BUMP), params)
        return int(current) + 1
    if session.execute(text(_BUMP), params).rowcount == 0:
        session.execute(text(_CREATE), params)
        session.execute(text(_BUMP), params)
    return int(session.execute(text(_READ), params).scalar_one())
