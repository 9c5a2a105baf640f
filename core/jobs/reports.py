"""Stuck or failed jobs are seen: each job that used all its attempts (FAILED) or that the sweeper had to rescue
(its worker died) is mailed to its institution's admins, once, each in their own language.

Run after each sweep (tasks/jobs.py). The job's `reported_at` is set in the transaction that picks it, so a job
is reported once whatever happens next; the mails go after that commit (a mail server that refuses one is
logged: the job's own row and /api/health/ready still tell the story). A refusal (a domain error: the task's
answer) ends the job SUCCEEDED and is not trouble.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import clock, mail
from core.i18n import Words, reader_language, words
from core.models import Institution, Job, JobStatus, Role, User
from core.uow import unit_of_work

from .registry import kind_named

log = logging.getLogger(__name__)

BATCH = 100
Sender = Callable[[mail.MailSettings, EmailMessage], None]


@dataclass(frozen=True)
class Owed:
    job_id: int
    kind: str
    attempts: int
    failed: bool
    last_error: str | None
    recipients: tuple[int, ...]


def compose(owed: Owed, recipient: User, base_url: str, reader: Words) -> tuple[str, str]:
    """Subject and plain-text body about one job, in `reader`'s language."""
    if owed.failed:
        subject = reader.gettext("Background work stopped: %(kind)s", kind=owed.kind)
        what = reader.gettext("Job %(id)s (%(kind)s) stopped after %(attempts)s attempts.", id=owed.job_id,
                              kind=owed.kind, attempts=owed.attempts)
    else:
        subject = reader.gettext("Background work was interrupted: %(kind)s", kind=owed.kind)
        what = reader.gettext("Job %(id)s (%(kind)s) was interrupted when its worker stopped; it was started "
                              "again.", id=owed.job_id, kind=owed.kind)
    parts = [reader.gettext("Hello %(name)s,", name=recipient.full_name), what]
    if owed.last_error:
        parts.append(reader.gettext("Last error: %(error)s", error=owed.last_error[:500]))
    parts.append(reader.gettext("Service status: %(url)s", url=base_url.rstrip("/") + "/api/health/ready"))
    return subject, "\n\n".join(parts) + "\n"


def pick(session: Session, limit: int = BATCH) -> list[Owed]:
    """The jobs whose trouble is not reported yet, marked reported (in the caller's unit of work)."""
    rows = session.scalars(
        select(Job).where(Job.reported_at.is_(None),
                          or_(Job.status == JobStatus.FAILED, Job.rescued_at.is_not(None)))
        .order_by(Job.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    owed = []
    now = clock.now()
    for job in rows:
        job.reported_at = now
        kind = kind_named(job.kind)
        institution_id = kind.institution_of(session, job.entity_id) if kind and kind.institution_of else None
        recipients = tuple(session.scalars(select(User.id).where(
            User.institution_id == institution_id, User.role.in_([Role.ADMIN, Role.SUPER_ADMIN]),
            User.active.is_(True)).order_by(User.id))) if institution_id is not None else ()
        owed.append(Owed(job.id, job.kind, job.attempts, job.status == JobStatus.FAILED, job.last_error,
                         recipients))
    return owed


def report_troubles(session: Session, settings: mail.MailSettings, base_url: str, *,
                    translations: str | None = None, send: Sender = mail.send) -> int:
    """Mail each unreported FAILED or rescued job to its institution's admins; the number of mails sent."""
    with unit_of_work(session):
        owed = pick(session)
    sent = 0
    for item in owed:
        for user_id in item.recipients:
            recipient = session.get(User, user_id)
            if recipient is None:
                continue
            default = session.scalar(select(Institution.default_language)
                                     .where(Institution.id == recipient.institution_id))
            reader = words(translations, reader_language(recipient.language, default))
            subject, body = compose(item, recipient, base_url, reader)
            try:
                send(settings, mail.build_message(settings, recipient.email, subject, body))
                sent += 1
            except (smtplib.SMTPException, OSError) as exc:
                log.warning("job %s: the report to user %s was refused: %s", item.job_id, user_id, exc)
    session.rollback()
    return sent
