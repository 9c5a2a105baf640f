"""The SQL of finance's gap-free counter: taking a number, and (PostgreSQL) numbering an invoice in one statement.

A number is taken in the issuing transaction by one upsert that increments the counter row (institution, kind,
year) and returns the new value; the row lock is held until that transaction ends. A second issue in the same
institution and year waits for the first to commit or roll back; a rollback gives the number back, so the
sequence has no gap and no duplicate. The same statement runs on PostgreSQL and SQLite (3.35+: upsert with
RETURNING); SQLite has one writer at a time, so it holds the write lock from there to the commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from core.db import is_postgres
from core.models import Invoice

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


# PostgreSQL: the number taken and written on the invoice by one statement, so the counter row is locked for that
# statement and the COMMIT only (no round trip, and no wait for the interpreter, in between).
_NUMBER_INVOICE = (
    "WITH n AS (" + _TAKE + ") UPDATE invoices SET number = :prefix || '-' || :year || '-' || "
    "CASE WHEN n.last_number < 1000000 THEN lpad(n.last_number::text, 6, '0') ELSE n.last_number::text END, "
    "{assignments} FROM n WHERE invoices.id = :invoice_id RETURNING invoices.number")


def number_invoice(session: Session, invoice_id: int, institution_id: int, year: int, prefix: str,
                   values: dict[str, Any]) -> str:
    """Give the invoice the next number of the institution's year (`PREFIX-YEAR-000123`) and set `values` (its
    issued state) with it, as the caller's transaction's last statement before the commit."""
    if is_postgres(session):
        assignments = ", ".join(f"{column} = :v_{column}" for column in values)
        params = {"i": institution_id, "k": "invoice", "y": year, "prefix": prefix, "year": str(year),
                  "invoice_id": invoice_id, **{f"v_{column}": value for column, value in values.items()}}
        return str(session.execute(text(_NUMBER_INVOICE.format(assignments=assignments)), params).scalar_one())
    number = f"{prefix}-{year}-{next_number(session, institution_id, 'invoice', year):06d}"
    session.execute(update(Invoice).where(Invoice.id == invoice_id).values(number=number, **values)
                    .execution_options(synchronize_session=False))
    return number
