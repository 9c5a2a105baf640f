"""Sign-offs: a facilitator signs a session's register once it has ended; an admin signs a cohort register or a
submission for the provider. Each needs a fresh password confirmation (core.access.confirmation) and records
who, when, from which address and the data version signed; a later change voids it (reads.py) until signed
again. A sign-off is a new row every time: rows are never changed (a database trigger refuses UPDATE)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.confirmation import confirm_password
from core.access.scoping import require
from core.attendance.service import open_session
from core.errors import Conflict, NotFound
from core.i18n import N_
from core.models import DocumentStatus, RegisterDocument, SessionStatus, SignOff, Submission, User
from core.registers import data
from core.registers.service import visible_document
from core.uow import unit_of_work

from .commands import SignOffCommand
from .reads import SignOffView, current_document_version, view_of


def sign_off_session(session: Session, user: User, session_id: int, command: SignOffCommand, *,
                     confirmed_at: dt.datetime | None, ip_address: str | None) -> SignOffView:
    """The facilitator's (or an admin's) sign-off of an ended session's register, on its marks as they are."""
    with unit_of_work(session):
        class_session, cohort, _ = open_session(session, user, session_id, for_mark=True)
        confirm_password(session, user, command.password, confirmed_at)
        if class_session.status == SessionStatus.CANCELLED:
            raise Conflict(N_("A cancelled session has no register to sign."), code="session_cancelled")
        if clock.now() < class_session.ends_at:
            raise Conflict(N_("A register can be signed once its session has ended."), code="session_not_ended")
        version = data.marks_version(session, cohort, [class_session.id])
        row = _signed(session, user, "class_session", class_session.id, class_session.institution_id, "facilitator",
                      command, version, ip_address)
        return view_of(row, user.full_name, current=version)


def sign_off_document(session: Session, user: User, document_id: int, command: SignOffCommand, *,
                      confirmed_at: dt.datetime | None, ip_address: str | None) -> SignOffView:
    """The provider's sign-off (an admin's) of a finished register document: its data version as built."""
    with unit_of_work(session):
        doc = visible_document(session, user, document_id)
        require(session, user, "registers.submit")
        confirm_password(session, user, command.password, confirmed_at)
        version = _finished(doc)
        row = _signed(session, user, "register_document", doc.id, doc.institution_id, "provider", command, version,
                      ip_address)
        return view_of(row, user.full_name, current=current_document_version(session, doc))


def sign_off_submission(session: Session, user: User, submission_id: int, command: SignOffCommand, *,
                        confirmed_at: dt.datetime | None, ip_address: str | None) -> SignOffView:
    """The provider's sign-off (an admin's) of a submission: the data version of the document it froze."""
    with unit_of_work(session):
        require(session, user, "registers.submit")
        document_id = session.scalar(select(Submission.document_id).where(Submission.id == submission_id))
        if document_id is None:
            raise NotFound(N_("No such submission, or it is not one you can see."))
        doc = visible_document(session, user, document_id)  # other cohorts and tenants: 404
        confirm_password(session, user, command.password, confirmed_at)
        version = _finished(doc)
        row = _signed(session, user, "submission", submission_id, doc.institution_id, "provider", command, version,
                      ip_address)
        return view_of(row, user.full_name, current=current_document_version(session, doc))


def _finished(doc: RegisterDocument) -> str:
    if doc.status != DocumentStatus.READY or not doc.data_version:
        raise Conflict(N_("Only a finished document can be signed."), code="not_ready")
    return doc.data_version


def _signed(session: Session, user: User, subject_type: str, subject_id: int, institution_id: int | None,
            role: str, command: SignOffCommand, version: str, ip_address: str | None) -> SignOff:
    assert institution_id is not None
    row = SignOff(institution_id=institution_id, subject_type=subject_type, subject_id=subject_id, role=role,
                  full_name=command.full_name, signature=command.signature, signed_by_id=user.id,
                  signed_at=clock.now(), ip_address=(ip_address or "")[:64] or None, data_version=version)
    session.add(row)
    session.flush()
    audit.record(session, actor_id=user.id, action=f"{subject_type}.sign_off", entity_type=subject_type,
                 entity_id=subject_id, after={"sign_off_id": row.id, "full_name": row.full_name, "role": role,
                                              "data_version": version, "ip_address": row.ip_address})
    return row
