"""Lawful redaction of audit rows (personal-data erasure scrubs names out of before/after/context): the rows'
content no longer gives their hash, so the redaction itself is recorded in the trail, in the same transaction,
as an `audit.redact` row per chain naming the rows it changed. Verification accepts a content mismatch of a
row named by such a row (the links, prev_hash and row_hash, must still hold), and nothing else: a change made
without one is a break."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.models import AuditEvent

ACTION = "audit.redact"


def record(session: Session, row_ids: Iterable[int], *, actor_id: int | None, reason: str) -> int:
    """Call in the transaction that rewrites the rows `row_ids` (their ids as they are): one `audit.redact` row
    per chain they belong to. Returns how many rows it names."""
    by_chain: dict[int | None, list[int]] = defaultdict(list)
    ids = sorted(set(row_ids))
    for start in range(0, len(ids), 10_000):
        for row_id, institution_id in session.execute(select(AuditEvent.id, AuditEvent.institution_id).where(
                AuditEvent.id.in_(ids[start:start + 10_000]))):
            by_chain[institution_id].append(row_id)
    for institution_id, named in by_chain.items():
        audit.record(session, actor_id=actor_id, action=ACTION, entity_type="institution" if institution_id else
                     "audit_chain", entity_id=institution_id or 0, after={"row_ids": sorted(named)},
                     context={"reason": reason}, institution_id=institution_id)
    return sum(len(v) for v in by_chain.values())


def redacted(session: Session, institution_id: int | None) -> set[int]:
    """Ids of the chain's rows that a recorded redaction names."""
    chain = (AuditEvent.institution_id.is_(None) if institution_id is None
             else AuditEvent.institution_id == institution_id)
    found: set[int] = set()
    for after in session.scalars(select(AuditEvent.after).where(chain, AuditEvent.action == ACTION)):
        found.update(int(i) for i in (after or {}).get("row_ids", []))
    return found
