"""Mails about access requests: the institution's admins hear of a new request, the regulator of the
decision (approved, denied, revoked).

A notice row per (request, event, recipient) is written in the same transaction as the change, with a
job to send it (core.jobs: sent after commit, or by the sweeper if the broker was down), so a mail is
owed exactly when the change happened and is never lost. A notice that went out is SENT and never goes
again; an SMTP failure marks it FAILED and the job retries it, a bounded number of times (the job counts
the attempts: a claim each, so a crash mid-send counts too).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, jobs, mail
from core.i18n import Words, reader_language, words
from core.models import AccessRequest, AccessRequestNotice, Institution, ReminderStatus, Role, User
from core.uow import unit_of_work

log = logging.getLogger(__name__)

REQUESTED, APPROVED, DENIED, REVOKED = "requested", "approved", "denied", "revoked"
MAX_ATTEMPTS = 6
TRANSIENT = (smtplib.SMTPException, OSError)
ADMIN_PATH = "/admin/access-requests"
REGULATOR_PATH = "/regulator"

Sender = Callable[[mail.MailSettings, EmailMessage], None]
SENT, FAILED, NOTHING_TO_DO = "sent", "failed", "nothing to do"
ENGLISH = words(None, "en")


def notice_failed(session: Session, notice_id: int, message: str) -> None:
    """The job gave up on this notice: FAILED with the reason (kind SEND_NOTICE's hook)."""
    jobs.move_row(session, AccessRequestNotice, notice_id, (ReminderStatus.PENDING, ReminderStatus.FAILED),
                  status=ReminderStatus.FAILED, last_error=message[:1000])


# An SMTP failure is FAILED on the row and tried again (the task raises jobs.TryAgain), MAX_ATTEMPTS runs in all.
SEND_NOTICE = jobs.register(jobs.JobKind("access.send_notice", queue=jobs.DEFAULT, max_attempts=MAX_ATTEMPTS,
                                         backoff=jobs.Backoff(base=60, setting="REMINDER_RETRY_SECONDS"),
                                         on_fail=notice_failed))


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
                                status=ReminderStatus.PENDING, created_at=now)
            for r in _recipients(session, req, event)]
    session.add_all(owed)
    session.flush()
    for notice in owed:
        jobs.enqueue(session, SEND_NOTICE, notice.id)
    return len(owed)


def _scope_words(req: AccessRequest, words: Words) -> str:
    if not req.cohorts:
        return words.gettext("every cohort of the institution")
    return words.gettext("the cohorts %(names)s", names=", ".join(c.name for c in req.cohorts))


def compose(req: AccessRequest, event: str, recipient: User, base_url: str, words: Words = ENGLISH) -> tuple[str, str]:
    """Subject and plain-text body of one notice, in `words`' language."""
    institution = req.institution.name
    regulator = req.regulator
    who = regulator.full_name + (f" ({regulator.agency_name})" if regulator.agency_name else "")
    hello = words.gettext("Hello %(name)s,", name=recipient.full_name)
    if event == REQUESTED:
        subject = words.gettext("Access request from %(who)s", who=who)
        asks = words.gettext("%(who)s <%(email)s> asks to read %(scope)s at %(institution)s.", who=who,
                             email=regulator.email, scope=_scope_words(req, words), institution=institution)
        body = "\n\n".join([hello, asks, words.gettext("Reason: %(reason)s", reason=req.reason),
                             words.gettext("Approve or deny it at %(url)s", url=base_url + ADMIN_PATH)]) + "\n"
        return subject, body
    if event == APPROVED:
        until = req.expires_at.strftime("%Y-%m-%d %H:%M UTC") if req.expires_at else "?"
        subject = words.gettext("Access to %(institution)s approved", institution=institution)
        detail = words.gettext("You may read %(scope)s, read-only, until %(until)s.", scope=_scope_words(req, words),
                               until=until)
    elif event == DENIED:
        subject = words.gettext("Access to %(institution)s denied", institution=institution)
        detail = words.gettext("Your request was denied. Reason: %(reason)s", reason=req.decision_reason)
    else:
        subject = words.gettext("Access to %(institution)s revoked", institution=institution)
        detail = words.gettext("Your access has been revoked. Reason: %(reason)s", reason=req.revoke_reason)
    body = "\n\n".join([hello, detail, words.gettext("Your requests: %(url)s", url=base_url + REGULATOR_PATH)])
    return subject, body + "\n"


def deliver(session: Session, settings: mail.MailSettings, base_url: str, notice_id: int, *,
            send: Sender = mail.send, translations: str | None = None) -> str:
    """Send one owed notice: SENT, FAILED (an SMTP error: the caller retries) or NOTHING_TO_DO (gone or sent)."""
    notice = session.get(AccessRequestNotice, notice_id)
    if notice is None or notice.status == ReminderStatus.SENT:
        return NOTHING_TO_DO
    req, recipient = session.get(AccessRequest, notice.access_request_id), session.get(User, notice.recipient_id)
    # A regulator belongs to no institution: the one they asked about speaks for them.
    default = session.scalar(select(Institution.default_language).where(
        Institution.id == (recipient.institution_id or req.institution_id)))
    reader = words(translations, reader_language(recipient.language, default))
    subject, body = compose(req, notice.event, recipient, base_url.rstrip("/"), reader)
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
