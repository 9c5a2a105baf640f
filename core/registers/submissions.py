"""Submissions: a register handed in as an ATTENDANCE_REGISTER, frozen to the exact file it was made from.

Only a register whose sessions are all locked can be submitted. A later change never alters the submitted
document (documents are immutable once READY; new data makes a new document). An unlock of one of its
sessions after the submission is audited (session.unlock) and shows as `amended_since`.

A submission also records its institution's audit chain head (core/audit_trail) when it was made: `trail_holds`
says whether the chain still passes through that head with the same hash and no break was found at or before it
(the nightly check's alerts); `trail_changed` whether the register was amended or the trail no longer holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import cohort_filter, require
from core.attendance.locking import lock_states
from core.errors import Conflict
from core.i18n import N_
from core.models import (
    AuditChainAlert,
    AuditChainHead,
    AuditEvent,
    ClassSession,
    Cohort,
    DocumentStatus,
    RegisterDocument,
    SessionStatus,
    Submission,
    SubmissionResource,
    SubmissionStatus,
    User,
)
from core.uow import unit_of_work

from .commands import SubmitRegister
from .service import visible_document


@dataclass(frozen=True)
class SubmissionView:
    id: int
    register_document_id: int | None
    sha256: str | None
    submitted_at: dt.datetime | None
    amended_since: dt.datetime | None
    reference: str | None
    kind: str | None
    cohort: str | None
    trail_seq: int | None = None
    trail_hash: str | None = None  # hex
    trail_holds: bool | None = None  # None: submitted before the trail was chained

    @property
    def trail_changed(self) -> bool:
        return self.amended_since is not None or self.trail_holds is False


def _covered_by(doc: RegisterDocument) -> ColumnElement[bool]:
    """The class sessions this document covers."""
    if doc.session_id is not None:
        return ClassSession.id == doc.session_id
    return and_(ClassSession.cohort_id == doc.cohort_id,
                ClassSession.session_date.between(doc.period_start, doc.period_end))


def _covered_by_any() -> ColumnElement[bool]:
    """The same, correlated to the RegisterDocument row of the enclosing query."""
    return or_(ClassSession.id == RegisterDocument.session_id,
               and_(RegisterDocument.session_id.is_(None), ClassSession.cohort_id == RegisterDocument.cohort_id,
                    ClassSession.session_date.between(RegisterDocument.period_start, RegisterDocument.period_end)))


def why_not_submittable(session: Session, docs: list[RegisterDocument], grace_hours: int = 24
                        ) -> dict[int, str | None]:
    """Per document id: None when Submit can succeed, else the sentence (a msgid, filled by the caller with
    `unlocked` and `total`) that says why not. The same rule `submit` applies."""
    reasons: dict[int, str | None] = {}
    submitted = set(session.scalars(select(Submission.document_id).where(
        Submission.document_id.in_([d.id for d in docs])))) if docs else set()
    for doc in docs:
        if doc.status != DocumentStatus.READY or not doc.sha256:
            reasons[doc.id] = N_("Only a finished document can be submitted.")
        elif doc.id in submitted:
            reasons[doc.id] = N_("This document has already been submitted.")
        else:
            covered = list(session.scalars(select(ClassSession).where(
                _covered_by(doc), ClassSession.status != SessionStatus.CANCELLED)))
            unlocked = sum(not lock.locked for lock in lock_states(session, covered, grace_hours).values())
            reasons[doc.id] = NOT_LOCKED if unlocked or not covered else None
    return reasons


NOT_LOCKED = N_("Only a register whose sessions are all locked can be submitted: it can be submitted once every "
                "session it covers is locked.")


def submit(session: Session, user: User, command: SubmitRegister, *, grace_hours: int = 24) -> SubmissionView:
    with unit_of_work(session):
        doc = visible_document(session, user, command.register_document_id)
        require(session, user, "registers.submit")
        if doc.status != DocumentStatus.READY or not doc.sha256:
            raise Conflict(N_("Only a finished document can be submitted."), code="not_ready")
        covered = list(session.scalars(select(ClassSession).where(
            _covered_by(doc), ClassSession.status != SessionStatus.CANCELLED)))
        locks = lock_states(session, covered, grace_hours)  # by hand, or past the cut-off
        total, unlocked = len(covered), sum(not lock.locked for lock in locks.values())
        if total == 0 or unlocked:
            raise Conflict(N_("Only a register whose sessions are all locked can be submitted "
                              "(%(unlocked)s of %(total)s are not locked)."), code="sessions_not_locked",
                           params={"unlocked": unlocked, "total": total})
        if session.scalar(select(exists().where(Submission.document_id == doc.id))):
            raise Conflict(N_("This document has already been submitted."), code="already_submitted")
        head = session.get(AuditChainHead, doc.institution_id or 0)  # the trail as it stands when submitted
        row = Submission(institution_id=doc.institution_id, resource_type=SubmissionResource.ATTENDANCE_REGISTER,
                         resource_id=doc.id, document_id=doc.id, sha256=doc.sha256, status=SubmissionStatus.SUBMITTED,
                         submitted_by_id=user.id, submitted_at=clock.now(), trail_seq=head.seq if head else 0,
                         trail_hash=head.row_hash if head else bytes(32))
        session.add(row)
        session.flush()
        audit.record(session, actor_id=user.id, action="register.submit", entity_type="submission", entity_id=row.id,
                     after={"register_document_id": doc.id, "sha256": doc.sha256, "reference": doc.reference})
        return _views(session, select(Submission.id).where(Submission.id == row.id))[0]


def list_submissions(session: Session, user: User, page: int, per_page: int, cohort_id: int | None = None
                     ) -> tuple[list[SubmissionView], int]:
    """Submissions of the cohorts `user` may see (a regulator: those of their grants in force), newest first;
    of one cohort when `cohort_id` is given."""
    require(session, user, "registers.view")
    visible = (select(Submission.id).join(RegisterDocument, RegisterDocument.id == Submission.document_id)
               .join(Cohort, Cohort.id == RegisterDocument.cohort_id).where(cohort_filter(user)))
    if cohort_id is not None:
        visible = visible.where(Cohort.id == cohort_id)
    total = session.scalar(select(func.count()).select_from(visible.subquery())) or 0
    ids = visible.order_by(Submission.id.desc()).offset((page - 1) * per_page).limit(per_page)
    return _views(session, ids), total


def _views(session: Session, ids) -> list[SubmissionView]:  # type: ignore[no-untyped-def]
    """Submissions with `amended_since` (the first unlock of a covered session after submitting) in one query."""
    amended = (select(func.min(AuditEvent.at))
               .where(AuditEvent.action == "session.unlock", AuditEvent.entity_type == "class_session",
                      AuditEvent.at > Submission.submitted_at,
                      AuditEvent.entity_id.in_(select(ClassSession.id).where(_covered_by_any())))
               .correlate(Submission, RegisterDocument).scalar_subquery())
    rows = session.execute(
        select(Submission.id, Submission.document_id, Submission.sha256, Submission.submitted_at, amended,
               RegisterDocument.reference, RegisterDocument.kind, Cohort.name, Submission.trail_seq,
               Submission.trail_hash, _trail_holds())
        .join(RegisterDocument, RegisterDocument.id == Submission.document_id)
        .join(Cohort, Cohort.id == RegisterDocument.cohort_id)
        .where(Submission.id.in_(ids)).order_by(Submission.id.desc())
    ).all()
    return [SubmissionView(r[0], r[1], r[2], r[3], r[4], r[5], r[6].value if r[6] else None, r[7], r[8],
                           r[9].hex() if r[9] is not None else None, None if r[8] is None else bool(r[10]))
            for r in rows]


def _trail_holds() -> ColumnElement[bool]:
    """The chain still passes through the recorded head (the row at that seq has that hash; the empty chain,
    seq 0, always does) and no nightly check found a break at or before it."""
    anchored = or_(Submission.trail_seq == 0, exists().where(
        AuditEvent.institution_id == Submission.institution_id, AuditEvent.seq == Submission.trail_seq,
        AuditEvent.row_hash == Submission.trail_hash))
    broken = exists().where(AuditChainAlert.chain_id == func.coalesce(Submission.institution_id, 0),
                            or_(AuditChainAlert.seq.is_(None), AuditChainAlert.seq <= Submission.trail_seq))
    return and_(anchored, ~broken)

