"""The audit chain's SQL, PostgreSQL and SQLite side by side: reading a chain in seq order, a batch at a time,
each row with the hash its content gives (computed by PostgreSQL's sha256() over the same line the trigger
hashes, or in Python on SQLite), and the chains' heads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import is_postgres

from . import chain


class Link(NamedTuple):
    id: int
    seq: int | None
    prev_hash: bytes | None
    row_hash: bytes | None
    computed: bytes | None  # SHA-256(prev_hash || line of the row's content), None without a prev_hash


_COLUMNS = "id, seq, prev_hash, row_hash"
# audit_chain_line: migration 0025, the line of core/audit_trail/chain.py.
_COMPUTED_PG = ("sha256(prev_hash || convert_to(audit_chain_line(seq, institution_id, at, actor_id, action, "
                "entity_type, entity_id, before, after, context), 'UTF8'))")
_CONTENT_SQLITE = "institution_id, at, actor_id, action, entity_type, entity_id, before, after, context"


def _chain_filter(institution_id: int | None) -> str:
    # Two spellings, so that PostgreSQL walks the (institution_id, seq) index for either.
    return "institution_id IS NULL" if institution_id is None else "institution_id = :institution_id"


def links(session: Session, institution_id: int | None, batch: int) -> Iterator[list[Link]]:
    """The chain's rows in seq order, `batch` at a time (each batch its own short query: no statement runs
    longer than one batch, and memory stays bounded)."""
    postgres = is_postgres(session)
    extra = _COMPUTED_PG if postgres else _CONTENT_SQLITE
    sql = text(f"SELECT {_COLUMNS}, {extra} FROM audit_events WHERE {_chain_filter(institution_id)} "
               "AND seq > :after ORDER BY seq LIMIT :batch")
    after = 0
    while True:
        rows = session.execute(sql, {"institution_id": institution_id, "after": after, "batch": batch}).all()
        if not rows:
            return
        yield [Link(*row) if postgres else _sqlite_link(row) for row in rows]
        after = rows[-1][1]
        if len(rows) < batch:
            return


def _sqlite_link(row: Any) -> Link:
    id_, seq, prev, stored, institution_id, at, actor_id, action, entity_type, entity_id, *json = row
    computed = None
    if prev is not None and seq is not None:
        moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
        computed = chain.row_hash(prev, chain.line(seq, institution_id, moment, actor_id, action, entity_type,
                                                   entity_id, *json))
    return Link(id_, seq, prev, stored, computed)


def unchained(session: Session, institution_id: int | None) -> int | None:
    """The first row of the chain with no place in it (no seq: written with the trigger off), if any."""
    return session.execute(text(f"SELECT min(id) FROM audit_events WHERE {_chain_filter(institution_id)} "
                                "AND seq IS NULL"), {"institution_id": institution_id}).scalar()


def head(session: Session, chain_id: int) -> tuple[int, bytes] | None:
    row = session.execute(text("SELECT seq, row_hash FROM audit_chain_heads WHERE chain_id = :c"),
                          {"c": chain_id}).first()
    return (int(row[0]), bytes(row[1])) if row else None


def chains(session: Session) -> list[int | None]:
    """Every chain there is (an institution's id, or None for the platform's), heads first."""
    ids = {int(c) for c in session.execute(text("SELECT chain_id FROM audit_chain_heads")).scalars()}
    ids |= {int(c) if c is not None else 0 for c in
            session.execute(text("SELECT DISTINCT institution_id FROM audit_events WHERE seq IS NULL")).scalars()}
    return [None if c == 0 else c for c in sorted(ids)]


def row_at(session: Session, institution_id: int | None, seq: int) -> tuple[int, bytes] | None:
    """(id, row_hash) of the chain's row at `seq`."""
    row = session.execute(text(f"SELECT id, row_hash FROM audit_events WHERE {_chain_filter(institution_id)} "
                               "AND seq = :seq"), {"institution_id": institution_id, "seq": seq}).first()
    return (int(row[0]), bytes(row[1])) if row else None
