"""Apologies in advance: a learner sends one for sessions that have not started; a facilitator or an admin
approves it (each session becomes EXCUSED for the learner, with the reason as the note and the file as evidence,
through the marking service: audited like any mark) or declines it (the learner is mailed why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.attendance import evidence, marks
from core.attendance.commands import MarkRecord, MarkRegister
from core.attendance.reads import load_session
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.mail import MailSettings, build_message, send
from core.me.identity import member_in_cohort
from core.me.reads import my_sessions
from core.models import Apology, ApologyStatus, EvidenceFile, User, apology_sessions
from core.people.resets import language_of
from core.storage import PrivateStorage
from core.uow import unit_of_work

from .commands import DeclineApology, SendApology
from .jobs import DECISION_MAIL
from .reads import ApologyView, apology_views, visible_to


@dataclass(frozen=True)
class Upload:
    """An optional file sent with an apology (a multipart `file`), checked like any evidence."""

    stream: BinaryIO
    filename: str | None
    max_bytes: int


def _check_sessions(session: Session, user: User, session_ids: list[int]) -> None:
    """Each session must be one of mine, not cancelled, not started, and not already covered by an apology of mine
    that is pending or approved. 404 for a session that is not mine (other people's ids tell nothing)."""
    mine = {s.session_id: s for s in my_sessions(session, user, only=session_ids)}
    if missing := [i for i in session_ids if i not in mine]:
        raise NotFound(N_("No such session among yours."), details=[
            {"field": "session_ids", "message": f"Not one of your sessions: {i}."} for i in missing])
    now = clock.now()
    if started := [i for i in session_ids if mine[i].starts_at <= now or mine[i].cancelled]:
        raise ValidationError(N_("An apology is only for sessions that have not started (nor been cancelled)."),
                              code="session_started", details=[
                                  {"field": "session_ids", "message": f"Started or cancelled: {i}."} for i in started])
    covered = session.scalars(
        select(apology_sessions.c.session_id).join(Apology, Apology.id == apology_sessions.c.apology_id)
        .where(Apology.user_id == user.id, Apology.status != ApologyStatus.DECLINED,
               apology_sessions.c.session_id.in_(session_ids))).all()
    if covered:
        raise Conflict(N_("You already sent an apology for some of these sessions."), code="already_apologised",
                       details=[{"field": "session_ids", "message": f"Already sent: {i}."} for i in sorted(covered)])


def send_apology(session: Session, user: User, storage: PrivateStorage, command: SendApology,
                 upload: Upload | None = None) -> ApologyView:
    """Record a pending apology for my sessions (and its file, sniffed and stored privately). Nothing is kept,
    file included, when anything is refused."""
    stored: EvidenceFile | None = None
    try:
        with unit_of_work(session):
            ids = list(dict.fromkeys(command.session_ids))
            _check_sessions(session, user, ids)
            if upload is not None:
                stored = evidence.store_evidence_file(session, user, storage, upload.stream, upload.filename,
                                                      upload.max_bytes)
            apology = Apology(institution_id=user.institution_id, user_id=user.id, reason=command.reason,
                              evidence_file_id=stored.id if stored else None, status=ApologyStatus.PENDING)
            session.add(apology)
            session.flush()
            session.execute(insert(apology_sessions), [{"apology_id": apology.id, "session_id": i} for i in ids])
            audit.record(session, actor_id=user.id, action="apology.send", entity_type="apology",
                         entity_id=apology.id, after={"session_ids": ids, "evidence_file_id": apology.evidence_file_id})
            view = apology_views(session, [apology.id])[0]
    except BaseException:
        if stored is not None:
            storage.delete(stored.storage_key)
        raise
    return view


def _pending(session: Session, actor: User, apology_id: int) -> Apology:
    """The apology, if it covers a session `actor` may see (404 otherwise), still pending (409 otherwise); its row
    locked so that two deciders do not both decide it."""
    apology = session.scalar(select(Apology).where(Apology.id == apology_id, Apology.id.in_(visible_to(actor)))
                             .with_for_update(of=Apology))
    if apology is None:
        raise NotFound(N_("No such apology, or it is not one you can see."))
    if apology.status != ApologyStatus.PENDING:
        raise Conflict(N_("This apology was already decided."), code="already_decided",
                       details={"status": apology.status.value})
    return apology


def _decide(session: Session, actor: User, apology: Apology, status: ApologyStatus, reason: str | None) -> None:
    apology.status, apology.decided_by_id, apology.decided_at = status, actor.id, clock.now()
    apology.decision_reason = reason
    audit.record(session, actor_id=actor.id, action=f"apology.{status.value}", entity_type="apology",
                 entity_id=apology.id, before={"status": ApologyStatus.PENDING.value},
                 after={"status": status.value, "reason": reason})
    jobs.enqueue(session, DECISION_MAIL, apology.id)


def approve(session: Session, actor: User, apology_id: int, *, grace_hours: int = 24, language: str = "en"
            ) -> ApologyView:
    """Each session of the apology becomes EXCUSED for the learner, with the apology's reason as the note and its
    file as the evidence, through the marking service (its checks, its audit); then the learner is mailed. One
    transaction: a session that refuses the mark (locked: 423) leaves the apology pending and nothing marked."""
    with unit_of_work(session):
        apology = _pending(session, actor, apology_id)
        learner = session.get(User, apology.user_id)
        proof = session.get(EvidenceFile, apology.evidence_file_id) if apology.evidence_file_id else None
        session_ids = session.scalars(select(apology_sessions.c.session_id)
                                      .where(apology_sessions.c.apology_id == apology.id)).all()
        for session_id in sorted(session_ids):
            class_session, cohort, zone = load_session(session, actor, session_id)
            member_id = member_in_cohort(session, learner, cohort) if learner is not None else None
            if member_id is None:
                continue  # no longer on this cohort's registers
            marks.mark(session, actor, MarkRegister(session_id=session_id, records=[
                MarkRecord(id=member_id, status="EXCUSED", notes=apology.reason)]),
                grace_hours=grace_hours, language=language)
            if proof is not None:
                evidence.link_evidence(session, actor, class_session, cohort, zone, grace_hours, member_id, proof)
        _decide(session, actor, apology, ApologyStatus.APPROVED, None)
        return apology_views(session, [apology.id])[0]


def decline(session: Session, actor: User, apology_id: int, command: DeclineApology) -> ApologyView:
    """Decline with a reason: no mark changes; the learner is mailed the reason (a job, after commit)."""
    with unit_of_work(session):
        apology = _pending(session, actor, apology_id)
        _decide(session, actor, apology, ApologyStatus.DECLINED, command.reason)
        return apology_views(session, [apology.id])[0]


@dataclass(frozen=True)
class DecisionMail:
    """What the decision mail needs: who, the decision, its reason, the sessions, and the reader's language."""

    name: str
    apology: ApologyView
    language: str


def send_decision_mail(session: Session, settings: MailSettings, apology_id: int,
                       compose: Callable[[DecisionMail], tuple[str, str]]) -> bool:
    """Mail the learner the decision (a task calls this); `compose` writes (subject, text). False: nobody to mail."""
    apology = session.get(Apology, apology_id)
    learner = session.get(User, apology.user_id) if apology is not None else None
    if apology is None or learner is None or apology.status == ApologyStatus.PENDING or not learner.active:
        return False
    subject, text = compose(DecisionMail(learner.full_name, apology_views(session, [apology_id])[0],
                                         language_of(session, learner)))
    send(settings, build_message(settings, learner.email, subject, text))
    return True
