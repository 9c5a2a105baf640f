"""Reminder services. Each run first records what is due (rows with unique keys, committed), then sends
one mail per recipient; a row that went out is SENT and is never sent again. An SMTP failure marks that
recipient's rows FAILED and moves on to the next recipient; the calling task retries the failed ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core import clock, mail
from core.attendance import marking, roster
from core.attendance.locking import lock_states
from core.i18n import reader_language, words
from core.models import (
    AtRiskFlag,
    AtRiskNotice,
    ClassSession,
    Cohort,
    CohortStatus,
    Institution,
    ReminderSent,
    ReminderStatus,
    Role,
    SessionStatus,
    User,
    cohort_facilitators,
)
from core.uow import unit_of_work

from . import rules
from .store import insert_ignore

log = logging.getLogger(__name__)

UNMARKED = "unmarked_register"
LOOKBACK_DAYS = 14
MAX_ATTEMPTS = 6
TRANSIENT = (smtplib.SMTPException, OSError)

Sender = Callable[[mail.MailSettings, EmailMessage], None]


@dataclass
class DeliveryReport:
    planned: int = 0
    sent: list[int] = field(default_factory=list)      # recipient ids mailed
    failed: list[int] = field(default_factory=list)    # recipient ids whose mail failed (retry later)
    errors: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"planned": self.planned, "sent": len(self.sent), "failed": len(self.failed)}


# ---------------------------------------------------------------------------------------------------------------
# Unmarked registers
# ---------------------------------------------------------------------------------------------------------------

def _due_sessions(session: Session, now: dt.datetime, grace_hours: int) -> list[ClassSession]:
    """Ended, open (not locked by hand nor past their cut-off), not cancelled sessions of the last LOOKBACK_DAYS
    that still have unmarked trainees."""
    candidates = session.scalars(
        select(ClassSession).join(Cohort, Cohort.id == ClassSession.cohort_id).where(
            ClassSession.ends_at <= now, ClassSession.ends_at > now - dt.timedelta(days=LOOKBACK_DAYS),
            ClassSession.is_locked.is_(False), ClassSession.status != SessionStatus.CANCELLED,
            Cohort.status == CohortStatus.ACTIVE)
    ).all()
    locks = lock_states(session, candidates, grace_hours)
    candidates = [s for s in candidates if not locks[s.id].locked]
    sizes = roster.roster_sizes(session, [s.cohort_id for s in candidates])
    marked = roster.marked_counts(session, [s.id for s in candidates])
    return [s for s in candidates if sizes.get(s.cohort_id, 0) > marked.get(s.id, 0)]


def plan_unmarked_reminders(session: Session, now: dt.datetime | None = None, *, grace_hours: int = 24) -> int:
    """Record a reminder row per (due session, facilitator): the session's instructor, or else every
    facilitator of its cohort. Rows already there (sent or not) are left alone. One unit of work."""
    now = now or clock.now()
    with unit_of_work(session):
        due = _due_sessions(session, now, grace_hours)
        unassigned = [s.cohort_id for s in due if s.instructor_id is None]
        facilitators: dict[int, list[int]] = defaultdict(list)
        if unassigned:
            for cohort_id, user_id in session.execute(
                    select(cohort_facilitators.c.cohort_id, cohort_facilitators.c.user_id)
                    .join(User, User.id == cohort_facilitators.c.user_id)
                    .where(cohort_facilitators.c.cohort_id.in_(set(unassigned)), User.active.is_(True))).all():
                facilitators[cohort_id].append(user_id)
        rows = [{"session_id": s.id, "recipient_id": recipient, "kind": UNMARKED, "status": ReminderStatus.PENDING,
                 "created_at": now, "attempts": 0}
                for s in due for recipient in ([s.instructor_id] if s.instructor_id else facilitators[s.cohort_id])]
        return insert_ignore(session, ReminderSent, rows)


def deliver_unmarked_reminders(session: Session, settings: mail.MailSettings, base_url: str, *, grace_hours: int,
                               send: Sender = mail.send, max_attempts: int = MAX_ATTEMPTS,
                               translations: str | None = None) -> DeliveryReport:
    """One mail per recipient listing all their unsent reminders, in the recipient's language (their own, else
    their institution's default; `translations` is the catalogues' folder); each recipient's outcome is its own
    unit."""
    report = DeliveryReport()
    rows = session.execute(
        select(ReminderSent, ClassSession, Cohort.name, Institution.time_zone, User, Institution.default_language)
        .join(ClassSession, ClassSession.id == ReminderSent.session_id)
        .join(Cohort, Cohort.id == ClassSession.cohort_id)
        .join(Institution, Institution.id == ClassSession.institution_id)
        .join(User, User.id == ReminderSent.recipient_id)
        .where(ReminderSent.kind == UNMARKED, ReminderSent.status != ReminderStatus.SENT,
               ReminderSent.attempts < max_attempts)
        .order_by(ReminderSent.recipient_id, ClassSession.starts_at)
    ).all()
    report.planned = len(rows)
    sizes = roster.roster_sizes(session, {r[1].cohort_id for r in rows})
    marked = roster.marked_counts(session, {r[1].id for r in rows})
    by_recipient = groupby(rows, key=lambda r: r[4].id)
    for recipient_id, group in by_recipient:
        items = list(group)
        user = items[0][4]
        entries = []
        for _, cs, cohort_name, zone, _u, _language in items:
            z = ZoneInfo(zone)
            entries.append(rules.UnmarkedItem(
                session_id=cs.id, cohort_name=cohort_name, starts_local=cs.starts_at.astimezone(z),
                ends_local=cs.ends_at.astimezone(z), unmarked=max(sizes.get(cs.cohort_id, 0) - marked.get(cs.id, 0), 0),
                roster=sizes.get(cs.cohort_id, 0),
                locks_at_local=marking.auto_lock_at(cs.session_date, cs.ends_at, zone, grace_hours).astimezone(z),
                time_zone=zone))
        reader = words(translations, reader_language(user.language, items[0][5]))
        subject, text_body, html = rules.unmarked_mail(user.full_name, entries, base_url, reader)
        ids = [r[0].id for r in items]
        _deliver(session, ReminderSent, ids, settings, user, subject, text_body, html, send, report, recipient_id)
    return report


def _deliver(session: Session, model: type, ids: list[int], settings: mail.MailSettings, user: User, subject: str,
             text_body: str, html: str, send: Sender, report: DeliveryReport, recipient_id: int) -> None:
    # Count the attempt before sending: a crash mid-send still counts towards the bound.
    with unit_of_work(session):
        session.execute(update(model).where(model.id.in_(ids)).values(attempts=model.attempts + 1))
    message = mail.build_message(settings, user.email, subject, text_body, html)
    try:
        send(settings, message)
    except TRANSIENT as exc:
        log.warning("mail to user %s failed: %s", recipient_id, exc)
        with unit_of_work(session):
            session.execute(update(model).where(model.id.in_(ids)).values(status=ReminderStatus.FAILED,
                                                                         last_error=str(exc)[:1000]))
        report.failed.append(recipient_id)
        report.errors[recipient_id] = str(exc)
        return
    with unit_of_work(session):
        session.execute(update(model).where(model.id.in_(ids)).values(
            status=ReminderStatus.SENT, sent_at=clock.now(), last_error=None))
    report.sent.append(recipient_id)


def send_unmarked_reminders(session: Session, settings: mail.MailSettings, base_url: str, *, grace_hours: int = 24,
                            now: dt.datetime | None = None, send: Sender = mail.send,
                            translations: str | None = None) -> DeliveryReport:
    planned = plan_unmarked_reminders(session, now, grace_hours=grace_hours)
    report = deliver_unmarked_reminders(session, settings, base_url, grace_hours=grace_hours, send=send,
                                        translations=translations)
    log.info("unmarked reminders: %d new rows, %s", planned, report.as_dict())
    return report


# ---------------------------------------------------------------------------------------------------------------
# At-risk digests
# ---------------------------------------------------------------------------------------------------------------

def evaluate_at_risk(session: Session, *, threshold: float, consecutive: int, now: dt.datetime | None = None
                     ) -> tuple[int, int]:
    """Open a flag for each trainee who crossed into "at risk", clear flags of those who recovered, and
    record a notice per (new flag, cohort admin). Returns (flagged, cleared). One unit of work."""
    with unit_of_work(session):
        now = now or clock.now()
        cohorts = session.execute(select(Cohort.id, Cohort.institution_id).where(Cohort.status == CohortStatus.ACTIVE)
                                  ).all()
        institution_of = dict(cohorts)
        marks = roster.cohort_marks(session, institution_of.keys())
        risky: dict[tuple[int, str, int], rules.Risk] = {}
        for key, group in groupby(marks, key=lambda m: (m.cohort_id, m.member_type, m.member_id)):
            risk = rules.assess([m.status for m in group], threshold, consecutive)
            if risk.at_risk:
                risky[key] = risk
        open_flags = {(f.cohort_id, f.member_type, f.member_id): f for f in session.scalars(
            select(AtRiskFlag).where(AtRiskFlag.cleared_at.is_(None), AtRiskFlag.cohort_id.in_(institution_of.keys())))}
        recovered = [f.id for key, f in open_flags.items() if key not in risky]
        if recovered:
            session.execute(update(AtRiskFlag).where(AtRiskFlag.id.in_(recovered)).values(cleared_at=now))
        new = [{"cohort_id": k[0], "member_type": k[1], "member_id": k[2], "reason": r.reason, "rate": r.rate,
                "consecutive_misses": r.consecutive_misses, "flagged_at": now}
               for k, r in risky.items() if k not in open_flags]
        flagged = insert_ignore(session, AtRiskFlag, new)
        session.flush()
        # A notice per open, un-noticed flag and per active admin of the cohort's institution.
        pending = session.execute(
            select(AtRiskFlag.id, User.id)
            .join(Cohort, Cohort.id == AtRiskFlag.cohort_id)
            .join(User, and_(User.institution_id == Cohort.institution_id, User.role == Role.ADMIN,
                             User.active.is_(True)))
            .where(AtRiskFlag.cleared_at.is_(None), AtRiskFlag.flagged_at == now)
        ).all()
        insert_ignore(session, AtRiskNotice, [{"flag_id": f, "recipient_id": u, "status": ReminderStatus.PENDING,
                                                "attempts": 0, "created_at": now} for f, u in pending])
    return flagged, len(recovered)


def _member_names(session: Session, flags: Iterable[AtRiskFlag]) -> dict[tuple[str, int], str]:
    from core.models import CorporateTrainee, Enrolment, Learner

    flags = list(flags)
    enrolments = [f.member_id for f in flags if f.member_type == roster.PUBLIC_SPEC.member_type]
    trainees = [f.member_id for f in flags if f.member_type == roster.CORPORATE_SPEC.member_type]
    names: dict[tuple[str, int], str] = {}
    if enrolments:
        for eid, name in session.execute(select(Enrolment.id, Learner.full_name).join(
                Learner, Learner.id == Enrolment.learner_id).where(Enrolment.id.in_(enrolments))).all():
            names[(roster.PUBLIC_SPEC.member_type, eid)] = name
    if trainees:
        for tid, name in session.execute(select(CorporateTrainee.id, CorporateTrainee.full_name).where(
                CorporateTrainee.id.in_(trainees))).all():
            names[(roster.CORPORATE_SPEC.member_type, tid)] = name
    return names


def deliver_at_risk_digests(session: Session, settings: mail.MailSettings, *, threshold: float, consecutive: int,
                            send: Sender = mail.send, max_attempts: int = MAX_ATTEMPTS,
                            translations: str | None = None) -> DeliveryReport:
    report = DeliveryReport()
    rows = session.execute(
        select(AtRiskNotice, AtRiskFlag, Cohort.name, User, Institution.default_language)
        .join(AtRiskFlag, AtRiskFlag.id == AtRiskNotice.flag_id)
        .join(Cohort, Cohort.id == AtRiskFlag.cohort_id)
        .join(Institution, Institution.id == Cohort.institution_id)
        .join(User, User.id == AtRiskNotice.recipient_id)
        .where(AtRiskNotice.status != ReminderStatus.SENT, AtRiskNotice.attempts < max_attempts)
        .order_by(AtRiskNotice.recipient_id, Cohort.name)
    ).all()
    report.planned = len(rows)
    names = _member_names(session, [r[1] for r in rows])
    for recipient_id, group in groupby(rows, key=lambda r: r[3].id):
        items = list(group)
        user = items[0][3]
        entries = [rules.AtRiskItem(cohort_name, names.get((flag.member_type, flag.member_id), "?"), flag.reason,
                                    flag.rate, flag.consecutive_misses) for _, flag, cohort_name, _u, _l in items]
        reader = words(translations, reader_language(user.language, items[0][4]))
        subject, text_body, html = rules.at_risk_mail(user.full_name, entries, threshold, consecutive, reader)
        _deliver(session, AtRiskNotice, [r[0].id for r in items], settings, user, subject, text_body, html, send,
                 report, recipient_id)
    return report


def send_at_risk_digests(session: Session, settings: mail.MailSettings, *, threshold: float, consecutive: int,
                         now: dt.datetime | None = None, send: Sender = mail.send,
                         translations: str | None = None) -> DeliveryReport:
    flagged, cleared = evaluate_at_risk(session, threshold=threshold, consecutive=consecutive, now=now)
    report = deliver_at_risk_digests(session, settings, threshold=threshold, consecutive=consecutive, send=send,
                                     translations=translations)
    log.info("at-risk: %d new flags, %d cleared, %s", flagged, cleared, report.as_dict())
    return report


def unsent_counts(session: Session) -> dict[str, int]:
    """For operators: reminders and notices not yet sent."""
    return {
        "reminders": session.scalar(select(func.count()).select_from(ReminderSent).where(
            ReminderSent.status != ReminderStatus.SENT)) or 0,
        "at_risk_notices": session.scalar(select(func.count()).select_from(AtRiskNotice).where(
            or_(AtRiskNotice.status == ReminderStatus.PENDING, AtRiskNotice.status == ReminderStatus.FAILED))) or 0,
    }
