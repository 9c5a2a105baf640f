"""Mails about access requests: the institution's admins hear of a new request, the regulator of the
decision (approved, denied, revoked).

A notice row per (request, event, recipient) is written in the same transaction as the change, with a
job to send it (core.jobs: sent after commit, or by the sweeper if the broker was down), so a mail is
owed exactly when the change happened and is never lost. A notice that went out is SENT and never goes
again; an SMTP failure marks it FAILED and the job retries it, a bounded number of times.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock, jobs, mail
from core.models import AccessRequest, AccessRequestNotice, ReminderStatus, Role, User
from core.uow import unit_of_work

log = logging.getLogger(__name__)

REQUESTED, APPROVED, DENIED, REVOKED = "requested", "approved", "denied", "revoked"
MAX_ATTEMPTS = 6
TRANSIENT = (smtplib.SMTPException, OSError)
ADMIN_PATH = "/admin/access-requests"
REGULATOR_PATH = "/regulator"

Sender = Callable[[mail.MailSettings, EmailMessage], None]
SENT, FAILED, NOTHING_TO_DO = "sent", "failed", "nothing to do"


def _gave_up(session: Session, notice_id: int, message: str) -> None:
    jobs.move_row(session, AccessRequestNotice, notice_id, (ReminderStatus.PENDING, ReminderStatus.FAILED),
                  status=ReminderStatus.FAILED, last_error=message[:1000])


SEND_NOTICE = jobs.register(jobs.JobKind("access.send_notice", queue=jobs.DEFAULT, max_attempts=MAX_ATTEMPTS,
                                         on_give_up=_gave_up))


def _recipients(session: Session, req: AccessRequest, event: str) -> list[int]:
    if event != REQUESTED:
        return [req.regulator_id]
    return list(session.scalars(select(User.id).where(
        User.institution_id == req.institution_id, User.role.in_([Role.ADMIN, Role.SUPER_ADMIN]),
        User.active.is_(True)).order_by(User.id)))


def plan(session: Session, req: AccessRequest, event: str) -> int:
    """Owe one mail per recipient of `event`, each with its job (inside the caller's unit of work)."""
    now = clock.now()
    owed = [AccessRequestNotice(access_request_id=req.id, event=event, recipient_id=r,
                                status=ReminderStatus.PENDING, attempts=0, created_at=now)
            for r in _recipients(session, req, event)]
    session.add_all(owed)
    session.flush()
    for notice in owed:
        jobs.enqueue(session, SEND_NOTICE, notice.id)
    return len(owed)


def _scope_words(req: AccessRequest) -> str:
    if not req.cohorts:
        return "every cohort of the institution"
    return "the cohorts " + ", ".join(c.name for c in req.cohorts)


def compose(req: AccessRequest, event: str, recipient: User, base_url: str) -> tuple[str, str]:
    """Subject and plain-text body of one notice."""
    institution = req.institution.name
    regulator = req.regulator
    who = regulator.full_name + (f" ({regulator.agency_name})" if regulator.agency_name else "")
    if event == REQUESTED:
        subject = f"Access request from {who}"
        body = (f"Hello {recipient.full_name},\n\n{who} <{regulator.email}> asks to read {_scope_words(req)} "
                f"at {institution}.\n\nReason: {req.reason}\n\nApprove or deny it at {base_url}{ADMIN_PATH}\n")
        return subject, body
    if event == APPROVED:
        until = req.expires_at.strftime("%Y-%m-%d %H:%M UTC") if req.expires_at else "?"
        subject = f"Access to {institution} approved"
        detail = f"You may read {_scope_words(req)}, read-only, until {until}."
    elif event == DENIED:
        subject = f"Access to {institution} denied"
        detail = f"Your request was denied. Reason: {req.decision_reason}"
    else:
        subject = f"Access to {institution} revoked"
        detail = f"Your access has been revoked. Reason: {req.revoke_reason}"
    body = f"Hello {recipient.full_name},\n\n{detail}\n\nYour requests: {base_url}{REGULATOR_PATH}\n"
    return subject, body


def deliver(session: Session, settings: mail.MailSettings, base_url: str, notice_id: int, *,
            send: Sender = mail.send) -> str:
    """Send one owed notice: SENT, FAILED (an SMTP error: the caller retries) or NOTHING_TO_DO (gone or sent)."""
    notice = session.get(AccessRequestNotice, notice_id)
    if notice is None or notice.status == ReminderStatus.SENT:
        return NOTHING_TO_DO
    with unit_of_work(session):
        # Count the attempt before sending: a crash mid-send still counts.
        session.execute(update(AccessRequestNotice).where(AccessRequestNotice.id == notice_id)
                        .values(attempts=AccessRequestNotice.attempts + 1))
    req, recipient = session.get(AccessRequest, notice.access_request_id), session.get(User, notice.recipient_id)
    subject, body = compose(req, notice.event, recipient, base_url.rstrip("/"))
    try:
        send(settings, mail.build_message(settings, recipient.email, subject, body))
    except TRANSIENT as exc:
        log.warning("access request %s: mail to user %s failed: %s", req.id, recipient.id, exc)
        with unit_of_work(session):
            notice.status, notice.last_error = ReminderStatus.FAILED, str(exc)[:1000]
        return FAILED
    with unit_of_work(session):
        notice.status, notice.sent_at, notice.last_error = ReminderStatus.SENT, clock.now(), None
    return SENT
