"""Apply: write a plan's sessions in one transaction, and lose a race for a room with a clear Conflict.

Two planners can both see a room free and write at the same moment. PostgreSQL's exclusion constraints
decide: the second writer's rows violate them (a Conflict naming the clash), or the two writers wait for
each other's rows and PostgreSQL breaks the deadlock by aborting one. The aborted one writes its planned
rows once more in a fresh transaction, which then meets the winner's committed rows as a violation,
so the loser always gets a 409, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import visible_cohort
from core.attendance import locking
from core.errors import Conflict
from core.i18n import N_
from core.models import User
from core.uow import in_unit_of_work, unit_of_work

from . import store
from .clashes import describe_all
from .commands import SchedulePlan
from .plan import Preview, plan_for_cohort
from .planner import PlannedSession, check
from .reads import busy_sessions

T = TypeVar("T")
RACE_LOST = N_("Another change booked the same room, instructor or cohort at the same time. Nothing was written; "
               "try again.")


@dataclass
class Applied:
    preview: Preview
    created_ids: list[int]


def apply(session: Session, user: User, cohort_id: int, command: SchedulePlan) -> Applied:
    """Write the plan's sessions in one transaction. Re-applying the same plan creates nothing new."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    pv = plan_for_cohort(session, cohort, command)
    ids = in_one_transaction(session, pv.result.to_create, pv.zone, lambda: write_sessions(session, user.id, pv))
    return Applied(pv, ids)


def write_sessions(session: Session, actor_id: int | None, pv: Preview,
                   progress: store.Progress | None = None) -> list[int]:
    """The plan's new sessions and their audit line (inside the caller's unit of work)."""
    if pv.result.refused:
        clashes = pv.clashes(session)
        raise Conflict(N_("%(count)s session(s) of the plan clash and on_conflict is refuse: nothing was written. "
                          "First: %(first)s"), code="schedule_conflict",
                       params={"count": len(clashes), "first": clashes[0].message},
                       details={"conflicts": [c.as_record() for c in clashes]})
    if pv.result.to_create:  # past dates: the next lock sweep records them
        locking.reopen_sweep(session, min(p.ends_at for p in pv.result.to_create))
    ids = store.insert_sessions(session, pv.cohort.institution_id, pv.result.to_create, progress)
    if ids:
        audit.record(session, actor_id=actor_id, action="schedule.apply", entity_type="cohort", entity_id=pv.cohort.id,
                     after={"created": len(ids), "first_id": ids[0], "last_id": ids[-1]},
                     context={"skipped_conflicts": len(pv.result.skipped),
                              "already_scheduled": len(pv.result.already_scheduled)})
    session.flush()
    return ids


def in_one_transaction(session: Session, planned: Sequence[PlannedSession], zone: str, work: Callable[[], T],
                       exclude_id: int | None = None) -> T:
    """Run `work` (which books `planned`) in a unit of work; a lost race becomes a Conflict.

    A deadlock between two writers is retried once: the retry meets the winner's rows (committed by
    then, or waited for) as an exclusion violation, which names the clash.
    """
    for attempt in (1, 2):
        try:
            with unit_of_work(session):
                return work()
        except Exception as exc:
            if store.is_deadlock(exc) and attempt == 1 and not in_unit_of_work(session):
                continue
            if store.is_exclusion_violation(exc) or store.is_deadlock(exc):
                raise race_lost(session, exc, planned, zone, exclude_id) from None
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def race_lost(session: Session, exc: Exception, planned: Sequence[PlannedSession], zone: str,
              exclude_id: int | None = None) -> Conflict:
    """Another writer got there first. Look again (its rows are committed now) to name the clash."""
    if in_unit_of_work(session):  # an outer unit owns the failed transaction: it can't be read any more
        return Conflict(RACE_LOST, code="schedule_conflict", details={"conflicts": []})
    clashes = describe_all(session, zone, check(planned, busy_sessions(session, planned, exclude_id)))
    details = {"conflicts": [c.as_record() for c in clashes], "constraint": store.violated_constraint(exc)}
    if clashes:
        first = clashes[0].clashes[0]
        return Conflict(first.template, params=first.params, code="schedule_conflict", details=details)
    return Conflict(RACE_LOST, code="schedule_conflict", details=details)
