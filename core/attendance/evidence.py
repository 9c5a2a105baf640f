"""Evidence and history of one trainee's mark: sick notes (stored privately, checked by content) and every
audited change of the mark."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, BinaryIO

import filetype
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import AuditEvent, ClassSession, Cohort, EvidenceFile, User
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import locking, roster
from .reads import load_session, open_session

EVIDENCE_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class _Prefixed:
    """A stream that first replays bytes already read (the sniffed head), then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            chunk, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else (
                self.head[:size], self.head[size:])
            return chunk
        return self.rest.read(size)


def store_evidence_file(session: Session, user: User, storage: PrivateStorage, stream: BinaryIO | None,
                        filename: str | None, max_bytes: int) -> EvidenceFile:
    """Sniff the file (PDF, JPEG or PNG by its content, whatever its name says), store it privately under a random
    name (size-limited) and add its row, in the caller's transaction. The caller deletes the stored file if that
    transaction fails (`EvidenceFile.storage_key`)."""
    if stream is None:
        raise ValidationError(N_("Choose a file (PDF, JPEG or PNG)."), code="file_required", details={"field": "file"})
    head = stream.read(512)
    kind = filetype.guess(head) if head else None
    if kind is None or kind.mime not in EVIDENCE_TYPES:
        raise ValidationError(N_("Evidence must be a PDF, JPEG or PNG file."), code="unsupported_file_type",
                              details={"field": "file", "detected": kind.mime if kind else None})
    stored = storage.save_stream(_Prefixed(head, stream), "evidence",  # type: ignore[arg-type]
                                 EVIDENCE_TYPES[kind.mime], max_bytes=max_bytes)
    evidence = EvidenceFile(storage_key=stored.key, original_filename=(filename or "evidence")[:255],
                            content_type=kind.mime, size_bytes=stored.size, sha256=stored.sha256,
                            uploaded_by_id=user.id)
    session.add(evidence)
    try:
        session.flush()
    except BaseException:
        storage.delete(stored.key)
        raise
    return evidence


def link_evidence(session: Session, user: User, class_session: ClassSession, cohort: Cohort, zone: str,
                  grace_hours: int, member_id: int, evidence: EvidenceFile) -> None:
    """Attach stored evidence to the member's current mark, in the caller's transaction. The update checks the lock
    rule itself (423 `session_locked`); a mark changed meanwhile is a 409; one audit event."""
    spec = roster.spec_for(cohort)
    current = roster.current_marks(session, cohort, class_session.id, for_update=True).get(member_id)
    if current is None:
        if member_id not in roster.member_ids(session, cohort, class_session.id):
            raise NotFound(N_("This trainee is not on this session's register."))
        raise ValidationError(N_("Mark this trainee first, then attach the evidence."), code="not_marked")
    rec = spec.model
    now = clock.now()
    still_open = text(locking.OPEN_SESSION_SQL).bindparams(locking.NOW_PARAM).bindparams(
        **locking.open_session_params(class_session, zone, grace_hours, now))
    attached = session.execute(update(rec).where(rec.id == current.record_id, still_open).values(
        evidence_file_id=evidence.id, version=rec.version + 1, updated_at=now))
    if not attached.rowcount:  # type: ignore[attr-defined]
        locking.refuse_if_locked(class_session, zone, grace_hours)
        raise Conflict(N_("This mark changed meanwhile; reload and try again."), code="changed_concurrently")
    audit.record(session, actor_id=user.id, action="attendance.evidence", entity_type=spec.entity_type,
                 entity_id=current.record_id, before={"evidence_file_id": current.evidence_file_id},
                 after={"evidence_file_id": evidence.id, "filename": evidence.original_filename},
                 context={"session_id": class_session.id, spec.key: member_id},
                 institution_id=class_session.institution_id)


def attach_evidence(session: Session, user: User, storage: PrivateStorage, session_id: int, member_id: int,
                    stream: BinaryIO | None, filename: str | None, max_bytes: int, *, grace_hours: int = 24
                    ) -> EvidenceFile:
    """Store a sick note (PDF/JPEG/PNG, checked by content, size-limited) and attach it to the member's mark.
    The update that attaches it checks the lock rule itself (423 `session_locked`, nothing kept)."""
    evidence = None
    try:
        with unit_of_work(session):
            class_session, cohort, zone = load_session(session, user, session_id)
            require(session, user, roster.permissions_for(cohort)[1])
            locking.lock_row(session, class_session)
            locking.refuse_if_locked(class_session, zone, grace_hours)
            evidence = store_evidence_file(session, user, storage, stream, filename, max_bytes)
            link_evidence(session, user, class_session, cohort, zone, grace_hours, member_id, evidence)
    except BaseException:
        if evidence is not None:
            storage.delete(evidence.storage_key)  # nothing refers to it: don't keep it
        raise
    return evidence


def evidence_for_download(session: Session, user: User, evidence_id: int) -> EvidenceFile:
    """The evidence file, only for who may see the record it belongs to (404 otherwise)."""
    found = roster.record_for_evidence(session, evidence_id)
    evidence = session.get(EvidenceFile, evidence_id)
    if found is None or evidence is None:
        raise NotFound(N_("No such evidence file."))
    _, session_id, _ = found
    open_session(session, user, session_id)
    return evidence


@dataclass(frozen=True)
class MarkChange:
    """One audited change of a mark: when, what, by whom, from which values to which."""

    at: dt.datetime
    action: str
    by: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record_history(session: Session, user: User, session_id: int, member_id: int) -> list[MarkChange]:
    """Every audited change of one member's mark in one session, oldest first."""
    class_session, cohort, spec = open_session(session, user, session_id)
    current = roster.current_marks(session, cohort, class_session.id).get(member_id)
    if current is None:
        if member_id not in roster.member_ids(session, cohort, class_session.id):
            raise NotFound(N_("This trainee is not on this session's register."))
        return []
    rows = session.execute(
        select(AuditEvent, User.full_name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.entity_type == spec.entity_type, AuditEvent.entity_id == current.record_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return [MarkChange(event.at, event.action, name, event.before, event.after) for event, name in rows]
