"""The audit chain's SQL, PostgreSQL and SQLite side by side.

PostgreSQL checks a range of the chain inside the database (`check_range`: each row's hash recomputed with
sha256() over the line the trigger hashed, its link to the row before by lag()) and answers three numbers, so
no row crosses the wire unless it is broken; SQLite hands the rows over (`links`) and Python hashes them.
Either way a chain is walked a range at a time, each its own short statement."""

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
# A row an erasure rewrote (audit_redactions, issue 25) is taken as its recorded hash: its links still hold.
_REDACTED = "EXISTS (SELECT 1 FROM audit_redactions r WHERE r.audit_event_id = audit_events.id)"
_COMPUTED_PG = (f"CASE WHEN {_REDACTED} THEN row_hash ELSE "
                "sha256(prev_hash || convert_to(audit_chain_line(seq, institution_id, at, actor_id, action, "
                "entity_type, entity_id, before, after, context), 'UTF8')) END")
_CONTENT_SQLITE = (f"{_REDACTED}, institution_id, at, actor_id, action, entity_type, entity_id, before, after, "
                   "context")


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


def checks_in_sql(session: Session) -> bool:
    return is_postgres(session)


class RangeCheck(NamedTuple):
    rows: int
    last_seq: int | None
    first_bad_seq: int | None


# Each row of the range beside the row before it (seq - 1, looked up, not a window: the query parallelizes and
# hashes in every worker); the first row of a chain links to 32 zero bytes.
_A_LINE = ("a.seq, a.institution_id, a.at, a.actor_id, a.action, a.entity_type, a.entity_id, a.before, a.after, "
           "a.context")
_CHECK_RANGE_PG = f"""
SELECT count(*), max(a.seq),
       min(a.seq) FILTER (WHERE (a.row_hash IS DISTINCT FROM
                                    sha256(a.prev_hash || convert_to(audit_chain_line({_A_LINE}), 'UTF8'))
                                 AND NOT EXISTS (SELECT 1 FROM audit_redactions r WHERE r.audit_event_id = a.id))
                             OR a.prev_hash IS DISTINCT FROM COALESCE(p.row_hash, CASE WHEN a.seq = 1 THEN
                                                                     decode(repeat('00', 32), 'hex') END))
  FROM audit_events AS a LEFT JOIN audit_events AS p ON {{p_chain}} AND p.seq = a.seq - 1
 WHERE {{a_chain}} AND a.seq > :after AND a.seq <= :until
"""


def check_range(session: Session, institution_id: int | None, after: int, until: int) -> RangeCheck:
    """PostgreSQL: the chain's rows with seq in (after, until], checked in the database, each against its own
    content and the row before it. The first bad seq, if any, is the first row that does not hold."""
    chain = _chain_filter(institution_id)
    sql = _CHECK_RANGE_PG.replace("{a_chain}", "a." + chain).replace("{p_chain}", "p." + chain)
    rows, last, bad = session.execute(text(sql), {"institution_id": institution_id, "after": after,
                                                  "until": until}).one()
    return RangeCheck(int(rows), last, bad)


def link_at(session: Session, institution_id: int | None, seq: int) -> Link | None:
    """The chain's row at `seq`, with the hash its content gives."""
    postgres = is_postgres(session)
    extra = _COMPUTED_PG if postgres else _CONTENT_SQLITE
    row = session.execute(text(f"SELECT {_COLUMNS}, {extra} FROM audit_events WHERE {_chain_filter(institution_id)} "
                               "AND seq = :seq"), {"institution_id": institution_id, "seq": seq}).first()
    if row is None:
        return None
    return Link(*row) if postgres else _sqlite_link(row)


def before(session: Session, institution_id: int | None, seq: int) -> tuple[int, bytes] | None:
    """(seq, row_hash) of the chain's last row before `seq`."""
    row = session.execute(text(f"SELECT seq, row_hash FROM audit_events WHERE {_chain_filter(institution_id)} "
                               "AND seq < :seq ORDER BY seq DESC LIMIT 1"),
                          {"institution_id": institution_id, "seq": seq}).first()
    return (int(row[0]), bytes(row[1]) if row[1] is not None else b"") if row else None


def next_after(session: Session, institution_id: int | None, seq: int) -> Link | None:
    """The chain's first row after `seq` (with its computed hash), if any."""
    row = session.execute(text(f"SELECT seq FROM audit_events WHERE {_chain_filter(institution_id)} "
                               "AND seq > :seq ORDER BY seq LIMIT 1"),
                          {"institution_id": institution_id, "seq": seq}).scalar()
    return link_at(session, institution_id, row) if row is not None else None


def _sqlite_link(row: Any) -> Link:
    id_, seq, prev, stored, redacted, institution_id, at, actor_id, action, entity_type, entity_id, *json = row
    computed = None
    if redacted:
        computed = stored
    elif prev is not None and seq is not None:
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
