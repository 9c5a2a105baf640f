"""Plan: what applying a schedule would do (sessions, clashes, warnings), computed without writing.

The command fixes the plan's shape; here the cohort fills in missing dates, the institution's zone and
holidays apply, rooms and instructors are checked, and the pure planner (planner.py) expands the plan
and checks it against the sessions already booked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from core.access.scoping import visible_cohort
from core.errors import Conflict, ValidationError
from core.i18n import N_
from core.models import Cohort, CohortStatus, User

from .clashes import CapacityWarning, ClashReport, Names, capacity_warnings, describe_all, names_for_result
from .commands import SchedulePlan
from .planner import Plan, PlanResult, Slot, check, expand, validate_plan
from .reads import busy_sessions, check_resources, holidays_between, institution_zone


@dataclass
class Preview:
    cohort: Cohort
    zone: str
    plan: Plan  # with the holidays it skips among its excluded dates
    result: PlanResult
    warnings: list[CapacityWarning] = field(default_factory=list)

    def names(self, session: Session) -> Names:
        return names_for_result(session, self.zone, self.result)

    def clashes(self, session: Session) -> list[ClashReport]:
        return describe_all(session, self.zone, self.result)


def to_plan(command: SchedulePlan, cohort: Cohort, zone: str) -> Plan:
    """The command as the planner's Plan, dates defaulting to the cohort's. ValidationError lists problems."""
    start = command.start_date or cohort.start_date
    end = command.end_date or cohort.end_date
    if start is None or end is None:
        raise ValidationError(N_("The plan has problems."), code="invalid_plan", details=[
            {"field": "start_date", "message": "Give start_date and end_date (the cohort has none)."}])
    slots = tuple(Slot(s.start, s.end, s.session_type, s.room_id, s.instructor_id) for s in command.slots)
    plan = Plan(cohort_id=cohort.id, start_date=start, end_date=end, weekdays=command.weekday_numbers, slots=slots,
                zone=zone, excluded_dates=frozenset(command.excluded_dates), on_conflict=command.on_conflict)
    if problems := validate_plan(plan):
        raise ValidationError(N_("The plan has problems."), code="invalid_plan",
                              details=[{"field": "plan", "message": m} for m in problems])
    return plan


def plan_for_cohort(session: Session, cohort: Cohort, command: SchedulePlan) -> Preview:
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.ARCHIVED):
        raise Conflict(N_("Cohort %(cohort)s is %(status)s: it can't be scheduled."), code="cohort_closed",
                       params={"cohort": cohort.name, "status": cohort.status.value.lower()})
    zone = institution_zone(session, cohort.institution_id)
    plan = to_plan(command, cohort, zone)
    check_resources(session, cohort.institution_id, plan.slots)
    if command.use_holidays or command.use_public_holidays:
        holidays = holidays_between(session, cohort.institution_id, plan.start_date, plan.end_date,
                                    own=command.use_holidays, public=command.use_public_holidays)
        plan = dataclasses.replace(plan, excluded_dates=plan.excluded_dates | holidays)
    planned = expand(plan)
    result = check(planned, busy_sessions(session, planned), plan.on_conflict)
    return Preview(cohort, zone, plan, result, capacity_warnings(session, cohort, plan.slots))


def preview(session: Session, user: User, cohort_id: int, command: SchedulePlan) -> Preview:
    """What applying the plan would do: sessions, clashes, warnings. Writes nothing."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    return plan_for_cohort(session, cohort, command)


def planned_size(session: Session, user: User, cohort_id: int, command: SchedulePlan) -> int:
    """How many sessions the plan expands to (cheap: no conflict checks), to choose inline vs background."""
    cohort = visible_cohort(session, user, cohort_id, "sessions.manage")
    return len(expand(to_plan(command, cohort, institution_zone(session, cohort.institution_id))))
