"""Reading signatures: a subject's sign-offs (newest first, each void or not against the data as it is now) and
the learners' signatures of a session (drawn, or a self check-in as an electronic signature)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.access.scoping import require
from core.attendance import roster
from core.attendance.service import open_session
from core.errors import NotFound
from core.i18n import N_
from core.models import ClassSession, Cohort, LearnerSignature, RegisterDocument, SignOff, Submission, User
from core.registers import data
from core.registers.service import scope_of, visible_document


@dataclass(frozen=True)
class SignOffView:
    id: int
    subject_type: str
    subject_id: int
    role: str
    full_name: str
    signature: str | None
    signed_by: str | None
    signed_at: dt.datetime
    ip_address: str | None
    data_version: str
    void: bool          # the data changed after signing: sign again


@dataclass(frozen=True)
class LearnerSignatureView:
    member_id: int
    kind: str                       # drawn | check_in
    signed_at: dt.datetime
    signature_id: int | None        # drawn: the image's id


@dataclass(frozen=True)
class SessionSignatures:
    sign_offs: list[SignOffView]            # newest first; the first is the one in force (unless void)
    learners: dict[int, LearnerSignatureView]

    @property
    def sign_off(self) -> SignOffView | None:
        return self.sign_offs[0] if self.sign_offs else None


def view_of(row: SignOff, signed_by: str | None, *, current: str | None) -> SignOffView:
    return SignOffView(row.id, row.subject_type, row.subject_id, row.role, row.full_name, row.signature, signed_by,
                       row.signed_at, row.ip_address, row.data_version, void=row.data_version != current)


def sign_offs_of(session: Session, subject_type: str, subject_id: int, current: str | None) -> list[SignOffView]:
    rows = session.execute(select(SignOff, User.full_name).outerjoin(User, User.id == SignOff.signed_by_id)
                           .where(SignOff.subject_type == subject_type, SignOff.subject_id == subject_id)
                           .order_by(SignOff.id.desc())).all()
    return [view_of(row, name, current=current) for row, name in rows]


def current_document_version(session: Session, doc: RegisterDocument, grace_hours: int = 24) -> str:
    """The data version the document's scope has now (its own while nothing it shows has changed)."""
    return data.data_version(session, scope_of(doc), doc.language, doc.format.value, grace_hours)


def for_class_session(session: Session, class_session: ClassSession, cohort: Cohort) -> SessionSignatures:
    """The session's sign-offs and its learners' signatures (no permission check: the caller's)."""
    current = data.marks_version(session, cohort, [class_session.id])
    spec = roster.spec_for(cohort)
    learners = {m: LearnerSignatureView(m, "drawn", at, sid) for m, at, sid in session.execute(
        select(LearnerSignature.member_id, LearnerSignature.signed_at, LearnerSignature.id)
        .where(LearnerSignature.session_id == class_session.id, LearnerSignature.member_type == spec.member_type))}
    rec = spec.model
    for member, at in session.execute(select(getattr(rec, spec.key), rec.checked_in_at).where(
            rec.session_id == class_session.id, rec.source == "self_check_in", rec.checked_in_at.is_not(None))):
        learners.setdefault(member, LearnerSignatureView(member, "check_in", at, None))
    return SessionSignatures(sign_offs_of(session, "class_session", class_session.id, current), learners)


def session_signatures(session: Session, user: User, session_id: int) -> SessionSignatures:
    """What the register screen and the API show: for whoever may see the session (404 otherwise)."""
    class_session, cohort, _ = open_session(session, user, session_id)
    return for_class_session(session, class_session, cohort)


def document_sign_offs(session: Session, user: User, document_id: int, grace_hours: int = 24) -> list[SignOffView]:
    doc = visible_document(session, user, document_id)
    return sign_offs_of(session, "register_document", doc.id, current_document_version(session, doc, grace_hours))


def submission_sign_offs(session: Session, user: User, submission_id: int, grace_hours: int = 24
                         ) -> list[SignOffView]:
    require(session, user, "registers.view")
    document_id = session.scalar(select(Submission.document_id).where(Submission.id == submission_id))
    if document_id is None:
        raise NotFound(N_("No such submission, or it is not one you can see."))
    doc = visible_document(session, user, document_id)
    return sign_offs_of(session, "submission", submission_id, current_document_version(session, doc, grace_hours))


def signature_file(session: Session, user: User, signature_id: int) -> LearnerSignature:
    """A drawn signature's row, for whoever may see its session's register (404 otherwise)."""
    row = session.get(LearnerSignature, signature_id)
    if row is None:
        raise NotFound(N_("No such signature."))
    open_session(session, user, row.session_id)
    return row


def latest_submission_sign_offs(session: Session, submission_ids: list[int], grace_hours: int = 24
                                ) -> dict[int, SignOffView]:
    """The latest provider sign-off of each of these submissions (a list screen's page), each void or not."""
    if not submission_ids:
        return {}
    latest = (select(func.max(SignOff.id)).where(SignOff.subject_type == "submission",
                                                 SignOff.subject_id.in_(submission_ids))
              .group_by(SignOff.subject_id))
    rows = session.execute(select(SignOff, User.full_name, RegisterDocument)
                           .outerjoin(User, User.id == SignOff.signed_by_id)
                           .join(Submission, Submission.id == SignOff.subject_id)
                           .join(RegisterDocument, RegisterDocument.id == Submission.document_id)
                           .where(SignOff.id.in_(latest))).all()
    return {row.subject_id: view_of(row, name, current=current_document_version(session, doc, grace_hours))
            for row, name, doc in rows}


@dataclass(frozen=True)
class ProviderSignOff:
    """The provider's latest sign-off of a cohort's registers, as a client report prints it."""

    full_name: str
    signed_at: dt.datetime
    reference: str          # the signed register document's (or submitted document's) public reference
    void: bool


def provider_sign_off(session: Session, cohort_id: int, grace_hours: int = 24) -> ProviderSignOff | None:
    """The latest provider sign-off of any register document or submission of the cohort (no permission check:
    the caller's), void or not against the register's data now."""
    signed_document = case((SignOff.subject_type == "submission", Submission.document_id), else_=SignOff.subject_id)
    found = session.execute(
        select(SignOff, RegisterDocument)
        .outerjoin(Submission, and_(SignOff.subject_type == "submission", Submission.id == SignOff.subject_id))
        .join(RegisterDocument, RegisterDocument.id == signed_document)
        .where(SignOff.role == "provider", SignOff.subject_type.in_(("register_document", "submission")),
               RegisterDocument.cohort_id == cohort_id)
        .order_by(SignOff.id.desc()).limit(1)).first()
    if found is None:
        return None
    row, doc = found
    return ProviderSignOff(row.full_name, row.signed_at, doc.reference,
                           row.data_version != current_document_version(session, doc, grace_hours))
