"""Walk an audit chain and name the first row that does not hold: its content changed (its hash no longer
matches), a link broken (its prev_hash is not the previous row's hash), a row missing (a gap in seq), a row
outside the chain (no seq), or rows cut from its end (the head says more). Streamed a batch at a time."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Institution, Submission

from . import chain, store

BATCH = 200_000  # rows per range checked in one statement (about a second on a loaded 2-core machine)


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
    walk = _walk_in_sql if store.checks_in_sql(session) else _walk_rows
    if not walk(session, report, upto, batch) or report.broken is not None:
        return report
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


def _walk_in_sql(session: Session, report: ChainReport, upto: int | None, batch: int) -> bool:
    """PostgreSQL: range after range checked in the database; the rows of a broken range read to explain it.
    False when it stopped early (a break, or `upto` reached)."""
    chain_id = report.institution_id
    while True:
        start = report.last_seq
        until = start + batch if upto is None else min(start + batch, upto)
        if until <= start:
            return False
        checked = store.check_range(session, chain_id, start, until)
        if checked.first_bad_seq is not None:
            _explain(session, report, checked.first_bad_seq)
            return False
        if checked.rows:
            found = store.row_at(session, chain_id, checked.last_seq)  # type: ignore[arg-type]
            assert found is not None
            report.rows += checked.rows
            report.last_seq, report.last_hash = checked.last_seq, found[1]  # type: ignore[assignment]
        if checked.rows < until - start:
            # Fewer rows than the range holds: the chain ends here, or rows are missing before the next one.
            beyond = store.next_after(session, chain_id, until)
            if beyond is not None and (upto is None or beyond.seq <= upto):  # type: ignore[operator]
                report.broken = _check(beyond, report.last_seq + 1, report.last_hash)
                return False
            return True


def _explain(session: Session, report: ChainReport, seq: int) -> None:
    """The first bad row found by the database: the rows before it hold, so check it against its predecessor."""
    link = store.link_at(session, report.institution_id, seq)
    prior = store.before(session, report.institution_id, seq)
    if prior is not None and prior[0] > report.last_seq:
        report.rows += prior[0] - report.last_seq
        report.last_seq, report.last_hash = prior
    assert link is not None
    report.broken = _check(link, report.last_seq + 1, report.last_hash) or Break(
        link.id, link.seq, "content_changed", "the row does not hold")


def _walk_rows(session: Session, report: ChainReport, upto: int | None, batch: int) -> bool:
    """SQLite: the rows read in seq order a batch at a time, each hashed in Python."""
    for links in store.links(session, report.institution_id, batch):
        for link in links:
            if upto is not None and link.seq is not None and link.seq > upto:
                return False
            broken = _check(link, report.last_seq + 1, report.last_hash)
            if broken is not None:
                report.broken = broken
                return False
            report.rows += 1
            report.last_seq, report.last_hash = report.last_seq + 1, link.row_hash  # type: ignore[assignment]
    return True


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


def verify_submission(session: Session, submission_id: int) -> ChainReport | None:
    """The chain of a submission's institution checked up to the head the submission recorded, and that head
    still there with the recorded hash. None: no such submission, or one made before the trail was chained."""
    sub = session.get(Submission, submission_id)
    if sub is None or sub.trail_seq is None:
        return None
    report = verify_chain(session, sub.institution_id, upto=sub.trail_seq)
    if report.broken is None and sub.trail_seq and report.last_hash != sub.trail_hash:
        report.broken = Break(None, sub.trail_seq, "head_mismatch",
                              f"the row at seq {sub.trail_seq} no longer has the hash the submission recorded: the "
                              "chain was rewritten after it was submitted")
    return report


def institution_by_slug(session: Session, slug: str) -> Institution | None:
    return session.scalars(select(Institution).where(Institution.slug == slug)).first()
