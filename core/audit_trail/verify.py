"""Walk an audit chain and name the first row that does not hold: its content changed (its hash no longer
matches), a link broken (its prev_hash is not the previous row's hash), a row missing (a gap in seq), a row
outside the chain (no seq), or rows cut from its end (the head says more). Streamed a batch at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Institution

from . import chain, store

BATCH = 50_000


@dataclass(frozen=True)
class Break:
    row_id: int | None
    seq: int | None
    reason: str  # content_changed | link_broken | seq_gap | not_chained | head_mismatch
    detail: str


@dataclass
class ChainReport:
    institution_id: int | None
    rows: int = 0
    last_seq: int = 0
    last_hash: bytes = chain.GENESIS
    broken: Break | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_chain(session: Session, institution_id: int | None, *, upto: int | None = None,
                 batch: int = BATCH) -> ChainReport:
    """Check the chain of `institution_id` (None: the platform's) from its first row, up to seq `upto` (the
    whole chain, and that its head agrees, when None); stops at the first break."""
    report = ChainReport(institution_id)
    for links in store.links(session, institution_id, batch):
        for link in links:
            if upto is not None and link.seq is not None and link.seq > upto:
                return report
            broken = _check(link, report.last_seq + 1, report.last_hash)
            if broken is not None:
                report.broken = broken
                return report
            report.rows += 1
            report.last_seq, report.last_hash = report.last_seq + 1, link.row_hash  # type: ignore[assignment]
    if upto is not None:
        if report.last_seq < upto:
            report.broken = Break(None, upto, "seq_gap", f"the chain ends at seq {report.last_seq}, before {upto}")
        return report
    stray = store.unchained(session, institution_id)
    if stray is not None:
        report.broken = Break(stray, None, "not_chained", "this row has no place in the chain (no seq): it was "
                                                          "written around the chain")
        return report
    head = store.head(session, institution_id or 0)
    if head is not None and head != (report.last_seq, report.last_hash):
        report.broken = Break(None, head[0], "head_mismatch",
                              f"the chain ends at seq {report.last_seq} but its head is at seq {head[0]}: rows "
                              "were removed from its end, or the head was changed")
    return report


def _check(link: store.Link, seq: int, prev: bytes) -> Break | None:
    if link.seq != seq:
        return Break(link.id, link.seq, "seq_gap", f"seq {link.seq} where {seq} was expected: the row(s) before "
                                                   "it are missing")
    if link.prev_hash != prev:
        return Break(link.id, link.seq, "link_broken",
                     f"its prev_hash is not the row_hash of the row before it (seq {seq - 1}): that row was "
                     "rewritten with a new hash, or this one was")
    if link.computed != link.row_hash:
        return Break(link.id, link.seq, "content_changed",
                     "its content does not give its row_hash: the row was changed after it was written")
    return None


def verify(session: Session, institution_id: int | None = None) -> list[ChainReport]:
    """Every chain (or only `institution_id`'s), each checked from its first row."""
    ids = [institution_id] if institution_id is not None else store.chains(session)
    return [verify_chain(session, chain_id) for chain_id in ids]


def institution_by_slug(session: Session, slug: str) -> Institution | None:
    return session.scalars(select(Institution).where(Institution.slug == slug)).first()
