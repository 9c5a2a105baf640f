"""The warnings a level change owes, planned and delivered by the worker.

Planning (one unit of work): every change not yet planned gets one notice row per address its institution's
rules name (unique per change and address) and is marked planned. Delivery: the pending rows of one address
are claimed (status SENT, committed) *before* the mail goes out, so a retry or a crash after the claim can
never send them twice; an SMTP refusal puts them back (FAILED) for the next attempt. Rows claimed by a worker
that died before its mail left keep `sent_at` NULL: visible, never re-sent. Staff get one mail listing all
their pending changes (the daily digest); a learner's mail is theirs alone.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from itertools import groupby
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core import clock, mail
from core.access.scoping import organization_granted
from core.i18n import reader_language, words
from core.models import (
    AtRiskLevel,
    AtRiskLevelChange,
    AtRiskLevelNotice,
    Cohort,
    CohortType,
    CorporateTrainee,
    Enrolment,
    Institution,
    Learner,
    Organization,
    ReminderStatus,
    Role,
    User,
    cohort_facilitators,
)
from core.reminders.store import insert_ignore
from core.uow import unit_of_work

from . import rules

log = logging.getLogger(__name__)

BATCH = 2000
MAX_ATTEMPTS = 6
REPORTS_GRANT = "corporate_reports.view"  # the organization's grant to see reports naming its own employees
Sender = Callable[[mail.MailSettings, EmailMessage], None]


@dataclass
class NoticeReport:
    planned: int = 0
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"planned": self.planned, "sent": len(self.sent), "failed": len(self.failed)}


@dataclass(frozen=True)
class Recipient:
    audience: str
    email: str
    name: str | None
    language: str | None


def _learners(session: Session, changes: list[AtRiskLevelChange]) -> dict[tuple[str, int], Recipient]:
    public = [c.member_id for c in changes if c.member_type == "enrolment"]
    corporate = [c.member_id for c in changes if c.member_type == "corporate_trainee"]
    out: dict[tuple[str, int], Recipient] = {}
    if public:
        for eid, email, name, language, account_email in session.execute(
                select(Enrolment.id, Learner.email, Learner.full_name, User.language, User.email)
                .join(Learner, Learner.id == Enrolment.learner_id).outerjoin(User, User.id == Learner.user_id)
                .where(Enrolment.id.in_(public))):
            if email or account_email:
                out[("enrolment", eid)] = Recipient("learner", (email or account_email).lower(), name, language)
    if corporate:
        for tid, email, name in session.execute(select(CorporateTrainee.id, CorporateTrainee.email,
                                                       CorporateTrainee.full_name)
                                                .where(CorporateTrainee.id.in_(corporate))):
            if email:
                out[("corporate_trainee", tid)] = Recipient("learner", email.lower(), name, None)
    return out


def _staff(session: Session, cohort_ids: set[int]) -> dict[int, dict[str, list[Recipient]]]:
    """Per cohort: its facilitators, its institution's admins, and (granted organizations only) the contact."""
    out: dict[int, dict[str, list[Recipient]]] = defaultdict(lambda: defaultdict(list))
    for cid, email, name, language in session.execute(
            select(cohort_facilitators.c.cohort_id, User.email, User.full_name, User.language)
            .join(User, User.id == cohort_facilitators.c.user_id)
            .where(cohort_facilitators.c.cohort_id.in_(cohort_ids), User.active.is_(True))):
        out[cid]["facilitator"].append(Recipient("facilitator", email.lower(), name, language))
    for cid, email, name, language in session.execute(
            select(Cohort.id, User.email, User.full_name, User.language)
            .join(User, and_(User.institution_id == Cohort.institution_id, User.role == Role.ADMIN,
                             User.active.is_(True)))
            .where(Cohort.id.in_(cohort_ids))):
        out[cid]["cohort_admin"].append(Recipient("cohort_admin", email.lower(), name, language))
    for cid, email, name in session.execute(
            select(Cohort.id, Organization.contact_email, Cohort.contact_name)
            .join(Organization, Organization.id == Cohort.organization_id)
            .where(Cohort.id.in_(cohort_ids), Cohort.cohort_type == CohortType.CORPORATE,
                   Organization.contact_email.is_not(None),
                   organization_granted([Organization.id], REPORTS_GRANT))):
        out[cid]["org_contact"].append(Recipient("org_contact", email.lower(), name or None, None))
    return out


def plan(session: Session, limit: int = BATCH) -> int:
    """Notice rows for the changes not yet planned (one unit of work); how many changes were planned."""
    with unit_of_work(session):
        changes = list(session.scalars(select(AtRiskLevelChange).where(AtRiskLevelChange.notified_at.is_(None))
                                       .order_by(AtRiskLevelChange.id).limit(limit)
                                       .with_for_update(skip_locked=True)))
        if not changes:
            return 0
        cohort_ids = {c.cohort_id for c in changes}
        rules_of = dict(session.execute(select(Cohort.id, Institution.at_risk_rules).join(
            Institution, Institution.id == Cohort.institution_id).where(Cohort.id.in_(cohort_ids))).all())
        learners = _learners(session, changes)
        staff = _staff(session, cohort_ids)
        now = clock.now()
        rows: list[dict[str, Any]] = []
        for change in changes:
            change.notified_at = now
            for audience in rules.audiences(rules_of.get(change.cohort_id), change.to_level, change.from_level):
                found = [learners[(change.member_type, change.member_id)]] \
                    if audience == "learner" and (change.member_type, change.member_id) in learners \
                    else staff[change.cohort_id][audience] if audience != "learner" else []
                rows += [{"change_id": change.id, "audience": r.audience, "email": r.email, "name": r.name,
                          "language": r.language, "status": ReminderStatus.PENDING, "attempts": 0,
                          "created_at": now} for r in found]
        insert_ignore(session, AtRiskLevelNotice, rows)
        return len(changes)


def _warnings(session: Session, change_ids: list[int]) -> dict[int, tuple[rules.Warning, str]]:
    """{change id: (what the mail says, the institution's default language)}."""
    rows = session.execute(
        select(AtRiskLevelChange, AtRiskLevel, Cohort.name, Institution.default_language, Institution.contact_name,
               Institution.contact_email, func.coalesce(Learner.full_name, CorporateTrainee.full_name))
        .join(Cohort, Cohort.id == AtRiskLevelChange.cohort_id)
        .join(Institution, Institution.id == Cohort.institution_id)
        .outerjoin(AtRiskLevel, and_(AtRiskLevel.member_type == AtRiskLevelChange.member_type,
                                     AtRiskLevel.member_id == AtRiskLevelChange.member_id))
        .outerjoin(Enrolment, and_(AtRiskLevelChange.member_type == "enrolment",
                                   Enrolment.id == AtRiskLevelChange.member_id))
        .outerjoin(Learner, Learner.id == Enrolment.learner_id)
        .outerjoin(CorporateTrainee, and_(AtRiskLevelChange.member_type == "corporate_trainee",
                                          CorporateTrainee.id == AtRiskLevelChange.member_id))
        .where(AtRiskLevelChange.id.in_(change_ids))).all()
    out = {}
    for change, level, cohort_name, language, contact_name, contact_email, name in rows:
        contact = ", ".join(x for x in (contact_name, contact_email) if x) or None
        out[change.id] = (rules.Warning(
            name or "?", cohort_name, change.from_level, change.to_level, change.rate,
            level.required_rate if level else 0.0, change.margin, level.remaining if level else 0,
            level.consecutive_absences if level else 0, contact), language)
    return out


def _claim(session: Session, ids: list[int]) -> bool:
    """Take the rows for this mail, committed before it is sent: nobody sends them again."""
    with unit_of_work(session):
        taken = session.execute(update(AtRiskLevelNotice).where(
            AtRiskLevelNotice.id.in_(ids), AtRiskLevelNotice.status != ReminderStatus.SENT)
            .values(status=ReminderStatus.SENT, attempts=AtRiskLevelNotice.attempts + 1)).rowcount
    return taken == len(ids)


def deliver(session: Session, settings: mail.MailSettings, *, translations: str | None = None,
            send: Sender = mail.send, max_attempts: int = MAX_ATTEMPTS) -> NoticeReport:
    report = NoticeReport()
    pending = session.execute(
        select(AtRiskLevelNotice.id, AtRiskLevelNotice.email, AtRiskLevelNotice.audience, AtRiskLevelNotice.name,
               AtRiskLevelNotice.language, AtRiskLevelNotice.change_id)
        .where(or_(AtRiskLevelNotice.status == ReminderStatus.PENDING,
                   AtRiskLevelNotice.status == ReminderStatus.FAILED),
               AtRiskLevelNotice.attempts < max_attempts)
        .order_by(AtRiskLevelNotice.email, AtRiskLevelNotice.audience, AtRiskLevelNotice.change_id)).all()
    session.rollback()
    report.planned = len(pending)
    said = _warnings(session, sorted({p.change_id for p in pending}))
    session.rollback()
    # A learner's mail is about their own change; staff get one digest of all theirs.
    for (email, audience), group in groupby(pending, key=lambda p: (p.email, p.audience)):
        items = list(group)
        batches = [[i] for i in items] if audience == "learner" else [items]
        for batch in batches:
            ids = [i.id for i in batch]
            if not _claim(session, ids):
                continue
            language = reader_language(batch[0].language, said[batch[0].change_id][1])
            subject, body = rules.compose(words(translations, language), batch[0].name, audience,
                                          [said[i.change_id][0] for i in batch])
            try:
                send(settings, mail.build_message(settings, email, subject, body))
            except (smtplib.SMTPException, OSError) as exc:
                log.warning("at-risk notice to %s failed: %s", email, exc)
                with unit_of_work(session):
                    session.execute(update(AtRiskLevelNotice).where(AtRiskLevelNotice.id.in_(ids)).values(
                        status=ReminderStatus.FAILED, last_error=str(exc)[:1000]))
                report.failed.append(email)
                continue
            with unit_of_work(session):
                session.execute(update(AtRiskLevelNotice).where(AtRiskLevelNotice.id.in_(ids))
                                .values(sent_at=clock.now(), last_error=None))
            report.sent.append(email)
    return report
