"""Mails about access requests: the institution's admins hear of a new request, the regulator of the
decision (approved, denied, revoked).

A notice row per (request, event, recipient) is written in the same transaction as the change, so a
mail is owed exactly when the change happened; a worker then delivers the owed ones. A row that went
out is SENT and never goes again; an SMTP failure marks it FAILED for a bounded number of retries.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock, mail
from core.models import AccessRequest, AccessRequestNotice, ReminderStatus, Role, User
from core.uow import unit_of_work

log = logging.getLogger(__name__)

REQUESTED, APPROVED, DENIED, REVOKED = "requested", "approved", "denied", "revoked"
MAX_ATTEMPTS = 6
TRANSIENT = (smtplib.SMTPException, OSError)
ADMIN_PATH = "/admin/access-requests"
REGULATOR_PATH = "/regulator"

Sender = Callable[[mail.MailSettings, EmailMessage], None]


@dataclass
class NoticeReport:
    sent: list[int] = field(default_factory=list)     # notice ids delivered
    failed: list[int] = field(default_factory=list)   # notice ids to retry

    def as_dict(self) -> dict[str, int]:
        return {"sent": len(self.sent), "failed": len(self.failed)}


def _recipients(session: Session, req: AccessRequest, event: str) -> list[int]:
    if event != REQUESTED:
        return [req.regulator_id]
    return list(session.scalars(select(User.id).where(
        User.institution_id == req.institution_id, User.role.in_([Role.ADMIN, Role.SUPER_ADMIN]),
        User.active.is_(True)).order_by(User.id)))


def plan(session: Session, req: AccessRequest, event: str) -> int:
    """Owe one mail per recipient of `event` (inside the caller's unit of work). Returns how many."""
    recipients = _recipients(session, req, event)
    now = clock.now()
    session.add_all([AccessRequestNotice(access_request_id=req.id, event=event, recipient_id=r,
                                         status=ReminderStatus.PENDING, attempts=0, created_at=now)
                     for r in recipients])
    return len(recipients)


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


def deliver(session: Session, settings: mail.MailSettings, base_url: str, request_id: int, *,
            send: Sender = mail.send, max_attempts: int = MAX_ATTEMPTS) -> NoticeReport:
    """Send every owed notice of one request; each in its own transaction, so one failure blocks no other."""
    report = NoticeReport()
    owed = session.scalars(select(AccessRequestNotice).where(
        AccessRequestNotice.access_request_id == request_id, AccessRequestNotice.status != ReminderStatus.SENT,
        AccessRequestNotice.attempts < max_attempts).order_by(AccessRequestNotice.id)).all()
    for notice_id in [n.id for n in owed]:
        with unit_of_work(session):
            # Count the attempt before sending: a crash mid-send still counts towards the bound.
            session.execute(update(AccessRequestNotice).where(AccessRequestNotice.id == notice_id)
                            .values(attempts=AccessRequestNotice.attempts + 1))
        notice = session.get(AccessRequestNotice, notice_id)
        req, recipient = session.get(AccessRequest, request_id), session.get(User, notice.recipient_id)
        subject, body = compose(req, notice.event, recipient, base_url.rstrip("/"))
        try:
            send(settings, mail.build_message(settings, recipient.email, subject, body))
        except TRANSIENT as exc:
            log.warning("access request %s: mail to user %s failed: %s", request_id, recipient.id, exc)
            with unit_of_work(session):
                notice.status, notice.last_error = ReminderStatus.FAILED, str(exc)[:1000]
            report.failed.append(notice_id)
            continue
        with unit_of_work(session):
            notice.status, notice.sent_at, notice.last_error = ReminderStatus.SENT, clock.now(), None
        report.sent.append(notice_id)
    return report
