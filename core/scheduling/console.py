"""The facilitator's console: today's sessions, the next seven days, and past sessions not fully marked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import clock
from core.access.scoping import session_filter
from core.attendance.locking import lock_states
from core.attendance.roster import marked_counts, roster_sizes
from core.models import ClassSession, Cohort, Institution, Role, SessionStatus, User

LOOKBACK_DAYS = 30


@dataclass(frozen=True)
class ConsoleRow:
    session: ClassSession
    roster: int
    marked: int
    locked: bool

    @property
    def unmarked(self) -> int:
        return max(self.roster - self.marked, 0)


@dataclass(frozen=True)
class Console:
    today: list[ConsoleRow]
    upcoming: list[ConsoleRow]
    past_unmarked: list[ConsoleRow]


def facilitator_console(session: Session, user: User, grace_hours: int = 24) -> Console:
    zone = session.scalar(select(Institution.time_zone).where(Institution.id == user.institution_id)) or "UTC"
    today = clock.today_in(zone)
    scope = [session_filter(user)]
    if user.role == Role.TEACHER:
        # Sessions they teach (in any cohort), plus unassigned ones of the cohorts they facilitate.
        scope.append(or_(ClassSession.instructor_id == user.id, ClassSession.instructor_id.is_(None)))
    rows = session.scalars(
        select(ClassSession)
        .join(Cohort, Cohort.id == ClassSession.cohort_id)
        .where(
            *scope,
            ClassSession.status != SessionStatus.CANCELLED,
            ClassSession.session_date.between(today - dt.timedelta(days=LOOKBACK_DAYS), today + dt.timedelta(days=7)),
        )
        .order_by(ClassSession.starts_at)
    ).all()
    sizes = roster_sizes(session, [s.cohort_id for s in rows])
    marks = marked_counts(session, [s.id for s in rows])
    locks = lock_states(session, rows, grace_hours)
    console_rows = [ConsoleRow(s, sizes.get(s.cohort_id, 0), marks.get(s.id, 0), locks[s.id].locked) for s in rows]
    now = clock.now()
    return Console(
        today=[r for r in console_rows if r.session.session_date == today],
        upcoming=[r for r in console_rows if r.session.session_date > today],
        past_unmarked=[r for r in console_rows
                       if r.session.ends_at <= now and r.session.session_date < today and r.unmarked > 0],
    )
