"""The SQL of finance's gap-free counter (one statement, the same on PostgreSQL and SQLite).

A number is taken in the issuing transaction by one upsert that increments the counter row (institution, kind,
year) and returns the new value; the row lock is held until that transaction ends. A second issue in the same
institution and year waits for the first to commit or roll back; a rollback gives the number back, so the
sequence has no gap and no duplicate. The same statement runs on PostgreSQL and SQLite (3.35+: upsert with
RETURNING); SQLite has one writer at a time, so it holds the write lock from there to the commit.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# One statement takes the number: it creates the year's counter at 1 or bumps it, and returns it. The row stays
# locked (PostgreSQL: by the UPDATE; SQLite: the whole database, one writer) until the transaction ends.
_TAKE = ("INSERT INTO finance_counters (institution_id, kind, year, last_number) VALUES (:i, :k, :y, 1) "
         "ON CONFLICT (institution_id, kind, year) DO UPDATE SET last_number = finance_counters.last_number + 1 "
         "RETURNING last_number")


def next_number(session: Session, institution_id: int, kind: str, year: int) -> int:
    """The next number of `kind` ("invoice", "credit_note") for the institution and year, in the caller's
    transaction (which must commit for the number to count). Take it last: the counter stays locked until the
    commit, so everything a concurrent issue must wait for is what follows this statement."""
    return int(session.execute(text(_TAKE), {"i": institution_id, "k": kind, "y": year}).scalar_one())
