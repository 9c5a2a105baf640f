"""The nightly check of the audit trail: every chain verified; each break told once to each admin of its
institution (the platform's chain: to the super admins). An alert row per break and admin is inserted before
the mail goes out (its unique key makes a second run add nothing); a mail that fails stays FAILED and is sent
again by the next attempt, at most MAX_ATTEMPTS times."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock, mail
from core.i18n import Words, reader_language, words
from core.models import AuditChainAlert, Institution, ReminderStatus, Role, User
from core.reminders.store import insert_ignore
from core.uow import unit_of_work

from . import verify

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
TRANSIENT = (smtplib.SMTPException, OSError)
Sender = Callable[[mail.MailSettings, EmailMessage], None]


@dataclass
class TrailReport:
    chains: int = 0
    rows: int = 0
    broken: list[int] = field(default_factory=list)  # chain ids (0: the platform's)
    mailed: list[int] = field(default_factory=list)  # alert ids
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"chains": self.chains, "rows": self.rows, "broken": len(self.broken), "mailed": len(self.mailed),
                "failed": len(self.failed)}


def check_trail(session: Session, settings: mail.MailSettings, *, translations: str | None = None,
                send: Sender = mail.send) -> TrailReport:
    report = TrailReport()
    for chain in verify.verify(session):
        report.chains += 1
        report.rows += chain.rows
        if chain.broken is not None:
            _plan_alerts(session, chain)
            report.broken.append(chain.institution_id or 0)
    session.rollback()  # the verification's read transaction
    _deliver(session, settings, report, translations, send)
    return report


def _recipients(session: Session, institution_id: int | None) -> list[int]:
    if institution_id is None:
        who = User.role == Role.SUPER_ADMIN
    else:
        who = (User.role == Role.ADMIN) & (User.institution_id == institution_id)
    return list(session.scalars(select(User.id).where(who, User.active.is_(True)).order_by(User.id)))


def _plan_alerts(session: Session, chain: verify.ChainReport) -> None:
    b = chain.broken
    assert b is not None
    key = f"{b.reason}:{b.seq}:{b.row_id}"
    with unit_of_work(session):
        insert_ignore(session, AuditChainAlert, [
            {"chain_id": chain.institution_id or 0, "break_key": key, "row_id": b.row_id, "seq": b.seq,
             "reason": b.reason, "detail": b.detail, "recipient_id": user_id, "status": ReminderStatus.PENDING,
             "created_at": clock.now()}
            for user_id in _recipients(session, chain.institution_id)])


def _deliver(session: Session, settings: mail.MailSettings, report: TrailReport, translations: str | None,
             send: Sender) -> None:
    due = session.execute(
        select(AuditChainAlert, User, Institution)
        .join(User, User.id == AuditChainAlert.recipient_id)
        .outerjoin(Institution, Institution.id == AuditChainAlert.chain_id)
        .where(AuditChainAlert.status != ReminderStatus.SENT, AuditChainAlert.attempts < MAX_ATTEMPTS)
        .order_by(AuditChainAlert.id)).all()
    for alert, user, inst in due:
        with unit_of_work(session):  # the attempt counts before the send: a crash mid-send still counts
            session.execute(update(AuditChainAlert).where(AuditChainAlert.id == alert.id)
                            .values(attempts=AuditChainAlert.attempts + 1))
        reader = words(translations, reader_language(user.language, inst.default_language if inst else None))
        subject, body = alert_mail(reader, alert, inst.name if inst else None)
        try:
            send(settings, mail.build_message(settings, user.email, subject, body))
        except TRANSIENT as exc:
            log.warning("audit chain alert %s to user %s failed: %s", alert.id, user.id, exc)
            with unit_of_work(session):
                session.execute(update(AuditChainAlert).where(AuditChainAlert.id == alert.id).values(
                    status=ReminderStatus.FAILED, last_error=str(exc)[:1000]))
            report.failed.append(alert.id)
            continue
        with unit_of_work(session):
            session.execute(update(AuditChainAlert).where(AuditChainAlert.id == alert.id).values(
                status=ReminderStatus.SENT, sent_at=clock.now(), last_error=None))
        report.mailed.append(alert.id)


def alert_mail(reader: Words, alert: AuditChainAlert, institution: str | None) -> tuple[str, str]:
    """Subject and text of the alert, in the reader's language (the break's detail stays as the check wrote it,
    for the operator who investigates)."""
    whose = institution or reader.gettext("the platform (no institution)")
    subject = reader.gettext("Audit trail broken: %(institution)s", institution=whose)
    where = (reader.gettext("Row %(row)s (position %(seq)s in the chain).", row=alert.row_id, seq=alert.seq)
             if alert.row_id is not None else
             reader.gettext("Position %(seq)s in the chain.", seq=alert.seq))
    body = "\n\n".join((
        reader.gettext("The nightly check of the attendance audit trail of %(institution)s found a record that "
                       "no longer matches its hash: it was changed, removed or added outside the application.",
                       institution=whose),
        where,
        f"{alert.reason}: {alert.detail}",
        reader.gettext("Run `flask audit verify` to see it, and compare with your backups. You will not be told "
                       "of this break again."),
    ))
    return subject, body
