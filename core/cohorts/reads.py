"""Reads of one cohort's sessions for its screens: upcoming and past, a page of each, with the lock state
every screen shows (core.attendance.locking.lock_states: by hand, or past its cut-off unless an unlock is in
force), and every session of a cohort for a read-only list (the regulator's)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.attendance.locking import LockState, lock_states
from core.models import ClassSession, SessionStatus


@dataclass(frozen=True)
class SessionPage:
    items: list[ClassSession]
    locks: dict[int, LockState]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else 0


def _page(session: Session, where: list, order: list, page: int, per_page: int, grace_hours: int) -> SessionPage:
    total = session.scalar(select(func.count()).select_from(ClassSession).where(*where)) or 0
    last = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), last)  # a page past the end shows the last one: never a page 0, never an empty one
    items = list(session.scalars(select(ClassSession).where(*where).order_by(*order)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return SessionPage(items, lock_states(session, items, grace_hours), page, per_page, total)


def upcoming_and_past(session: Session, cohort_id: int, now: dt.datetime, *, upcoming_page: int = 1,
                      past_page: int = 1, per_page: int = 20, grace_hours: int = 24) -> tuple[SessionPage, SessionPage]:
    """The cohort's sessions not cancelled: those not ended yet (soonest first) and those ended (latest first)."""
    live = [ClassSession.cohort_id == cohort_id, ClassSession.status != SessionStatus.CANCELLED]
    upcoming = _page(session, [*live, ClassSession.ends_at > now], [ClassSession.starts_at, ClassSession.id],
                     upcoming_page, per_page, grace_hours)
    past = _page(session, [*live, ClassSession.ends_at <= now], [ClassSession.starts_at.desc(), ClassSession.id.desc()],
                 past_page, per_page, grace_hours)
    return upcoming, past


def all_sessions(session: Session, cohort_id: int, grace_hours: int) -> tuple[list[ClassSession], dict[int, LockState]]:
    """Every session of the cohort in time order, with its lock state."""
    items = list(session.scalars(select(ClassSession).where(ClassSession.cohort_id == cohort_id)
                                 .order_by(ClassSession.starts_at, ClassSession.id)))
    return items, lock_states(session, items, grace_hours)
