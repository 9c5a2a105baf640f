"""At-risk use cases: the nightly recompute (then the warnings it owes), and the refresh of one register's
cohort right after a mark, inside the mark's own transaction (a cohort's roster: a few milliseconds).

The global settings (AT_RISK_THRESHOLD, AT_RISK_CONSECUTIVE_MISSES) are the default of every qualification,
cohort and agreement without its own; web/ and the worker hand them over once at start-up (`configure`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy.orm import Session

from core import clock, mail
from core.uow import unit_of_work

from . import notices, store

log = logging.getLogger(__name__)

_defaults = store.Defaults()


def configure(required_rate: float, absence_limit: int) -> None:
    """`required_rate` in percent (AT_RISK_THRESHOLD 0.8 → 80.0)."""
    global _defaults
    _defaults = store.Defaults(float(required_rate), int(absence_limit))


def defaults() -> store.Defaults:
    return _defaults


def recompute(session: Session, now: dt.datetime | None = None) -> store.RunCounts:
    """Every active trainee's level, in one unit of work; each change recorded."""
    with unit_of_work(session):
        counts = store.recompute(session, _defaults, now or clock.now())
    log.info("at-risk: %d trainees, %d level changes", counts.trainees, counts.changes)
    return counts


def refresh_cohorts(session: Session, cohort_ids: Iterable[int]) -> store.RunCounts:
    """The levels of these cohorts' trainees, in the caller's transaction (a mark just changed them)."""
    with unit_of_work(session):
        return store.recompute(session, _defaults, clock.now(), cohort_ids=cohort_ids)


def nightly(session: Session, settings: mail.MailSettings, *, translations: str | None = None,
            send: notices.Sender = mail.send) -> notices.NoticeReport:
    """Recompute, plan the warnings every change owes (marks made during the day included), deliver them."""
    recompute(session)
    return warn(session, settings, translations=translations, send=send)


def warn(session: Session, settings: mail.MailSettings, *, translations: str | None = None,
         send: notices.Sender = mail.send) -> notices.NoticeReport:
    planned = 0
    while batch := notices.plan(session):
        planned += batch
    report = notices.deliver(session, settings, translations=translations, send=send)
    log.info("at-risk warnings: %d change(s) planned, %s", planned, report.as_dict())
    return report
