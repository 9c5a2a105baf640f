"""The hash chain of audit_events: one chain per institution (and one, chain 0, for rows of no institution).

The definition, exact to the byte, so that anyone holding a copy of the table can recompute it:

    line     = "\\n".join([seq, institution_id, at, actor_id, action, entity_type, entity_id,
                           before, after, context])                      (UTF-8 encoded)
    row_hash = SHA-256(prev_hash || line)                                (32 raw bytes)
    prev_hash of a row = row_hash of the row before it in its chain (same institution_id, seq - 1);
    the first row of a chain (seq 1) has prev_hash = 32 zero bytes.

Each field of the line:
* `seq`, `institution_id`, `actor_id`, `entity_id`: decimal integers, no sign, no padding; a NULL
  `institution_id` or `actor_id` is the empty string.
* `at`: UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fractional digits), e.g. `2026-11-17T08:30:00.000000Z`.
* `action`, `entity_type`: the text as stored.
* `before`, `after`, `context`: the JSON text as the database returns it: on PostgreSQL the jsonb's canonical
  text (`before::text`: keys sorted, `", "` and `": "` separators); on SQLite the stored text. SQL NULL is the
  empty string (JSON `null` is the four letters `null`).

No field can hold a line feed (JSON escapes it; actions and entity types are names), so the line reads back
unambiguously. The row's `id` is not in the hash: `seq` orders the chain.

Who computes it: the database, in the transaction that inserts the rows (migration 0025), so no writer can
skip it: on PostgreSQL a statement-level trigger locks the chain's head row (audit_chain_heads) FOR UPDATE,
chains the statement's new rows in id order with sha256() and advances the head, so two transactions appending
for one institution queue on that row and never fork the chain; on SQLite (writers serialized by the database)
a row trigger calls `audit_chain_hash`, the Python function below, registered on every SQLite connection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

GENESIS = bytes(32)
SQLITE_FUNCTION = "audit_chain_hash"


def format_at(at: dt.datetime) -> str:
    """`at` as the line holds it (aware datetimes are converted to UTC; naive ones are taken as UTC)."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def line(seq: int, institution_id: int | None, at: dt.datetime, actor_id: int | None, action: str,
         entity_type: str, entity_id: int, before: str | None, after: str | None, context: str | None) -> str:
    """The row's content as hashed (see the module docstring); JSON fields as their text."""
    return "\n".join((str(seq), _text(institution_id), format_at(at), _text(actor_id), action, entity_type,
                      str(entity_id), _text(before), _text(after), _text(context)))


def row_hash(prev_hash: bytes, content_line: str) -> bytes:
    return hashlib.sha256(prev_hash + content_line.encode()).digest()


def _sqlite_hash(prev_hash: bytes, seq: int, institution_id: int | None, at: str, actor_id: int | None,
                 action: str, entity_type: str, entity_id: int, before: str | None, after: str | None,
                 context: str | None) -> bytes:
    """The SQLite trigger's hash (`at` is SQLite's stored text, UTC)."""
    return row_hash(prev_hash, line(seq, institution_id, dt.datetime.fromisoformat(at), actor_id, action,
                                    entity_type, entity_id, before, after, context))


@event.listens_for(Engine, "connect")
def _sqlite_chain_function(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function(SQLITE_FUNCTION, 11, _sqlite_hash, deterministic=True)
