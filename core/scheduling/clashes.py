"""Clashes and warnings in words people read: which room, instructor or cohort, busy with what, when.

The planner finds clashes by id; this looks up the names once per result (three queries) and describes
each clash as a `ClashReport`. A report is plain data (strings and numbers): it goes into a Conflict's
details, onto a background run's row, and through the API's response schema unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.attendance.roster import roster_sizes
from core.i18n import LABELS, N_, Msgid, fill
from core.models import Cohort, Room, User

from .planner import Busy, Clash, PlannedSession, PlanResult, Slot


@dataclass(frozen=True)
class Names:
    """Names for the rooms, instructors and cohorts a result mentions, and the zone to show times in."""

    zone: ZoneInfo
    rooms: dict[int, str]
    users: dict[int, str]
    cohorts: dict[int, str]

    def local(self, instant: dt.datetime) -> dt.datetime:
        return instant.astimezone(self.zone)

    def resource(self, kind: str, rid: int) -> str:
        if kind == "room":
            return self.rooms.get(rid, f"room {rid}")
        if kind == "instructor":
            return self.users.get(rid, f"instructor {rid}")
        return self.cohorts.get(rid, f"cohort {rid}")


def names_for(session: Session, zone: str, items: Iterable[PlannedSession | Busy]) -> Names:
    rooms, users, cohorts = set(), set(), set()
    for item in items:
        cohorts.add(item.cohort_id)
        if item.room_id is not None:
            rooms.add(item.room_id)
        if item.instructor_id is not None:
            users.add(item.instructor_id)

    def lookup(column_id: Any, column_name: Any, ids: set[int]) -> dict[int, str]:
        return dict(session.execute(select(column_id, column_name).where(column_id.in_(ids))).all()) if ids else {}

    return Names(ZoneInfo(zone), lookup(Room.id, Room.name, rooms), lookup(User.id, User.full_name, users),
                 lookup(Cohort.id, Cohort.name, cohorts))


def names_for_result(session: Session, zone: str, result: PlanResult) -> Names:
    items: list[PlannedSession | Busy] = [*result.to_create, *result.already_scheduled]
    for c in result.clashes:
        items += [c.planned, c.other]
    return names_for(session, zone, items)


CLASH_IN_PLAN = N_("%(resource)s %(name)s is busy on %(date)s %(start)s–%(end)s: it clashes with slot %(slot)s of "
                   "this plan, %(other_start)s–%(other_end)s.")
CLASH_WITH_SESSION = N_("%(resource)s %(name)s is busy on %(date)s %(start)s–%(end)s: it clashes with session "
                        "%(session)s (%(cohort)s), %(other_start)s–%(other_end)s.")


@dataclass(frozen=True)
class ClashWith:
    session_id: int | None  # None: another session of the same plan
    in_this_plan: bool
    cohort_id: int
    cohort: str | None
    date: str
    start_time: str
    end_time: str


@dataclass(frozen=True)
class ClashReport:
    """One resource's clash (room, instructor or cohort), as listed under its planned session."""

    resource: str
    resource_id: int
    resource_name: str
    clashes_with: ClashWith
    message: str
    # The message as a msgid and its values, for a Conflict the reader sees in their language (not stored).
    template: str = field(default="", repr=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SkippedReport:
    """One planned session left out, with every resource that clashed (a room and an instructor busy at once
    is one session skipped, with two clashes)."""

    date: str
    slot: int
    start_time: str
    end_time: str
    session_type: str
    session_type_label: str
    resources: list[str]
    clashes: list[ClashReport]
    message: str

    def as_record(self) -> dict[str, Any]:
        """For a Conflict's details and a run's stored outcome."""
        record = asdict(self)
        for clash in record["clashes"]:
            clash.pop("template", None)
            clash.pop("params", None)
        return record


def describe(clash: Clash, names: Names) -> ClashReport:
    p, other = clash.planned, clash.other
    o_start, o_end = names.local(other.starts_at), names.local(other.ends_at)
    in_plan = isinstance(other, PlannedSession)
    who = names.resource(clash.resource.value, clash.resource_id)
    template = CLASH_IN_PLAN if in_plan else CLASH_WITH_SESSION
    params = {"resource": Msgid(LABELS["Resource"][clash.resource.value]), "name": who,
              "date": p.session_date.isoformat(), "start": f"{p.start_time:%H:%M}", "end": f"{p.end_time:%H:%M}",
              "slot": getattr(other, "slot", None), "session": getattr(other, "session_id", None),
              "cohort": names.cohorts.get(other.cohort_id) or Msgid(N_("another cohort")),
              "other_start": f"{o_start:%Y-%m-%d %H:%M}", "other_end": f"{o_end:%H:%M}"}
    return ClashReport(
        resource=clash.resource.value, resource_id=clash.resource_id, resource_name=who,
        clashes_with=ClashWith(session_id=None if in_plan else other.session_id, in_this_plan=in_plan,
                               cohort_id=other.cohort_id, cohort=names.cohorts.get(other.cohort_id),
                               date=o_start.date().isoformat(), start_time=f"{o_start:%H:%M}",
                               end_time=f"{o_end:%H:%M}"),
        message=fill(template, params, translate=str), template=template, params=params,
    )


def describe_all(session: Session, zone: str, result: PlanResult) -> list[SkippedReport]:
    """One report per planned session skipped, in plan order."""
    if not result.clashes:
        return []
    names = names_for_result(session, zone, result)
    reports = []
    for p, clashes in result.skipped.items():
        described = [describe(c, names) for c in clashes]
        reports.append(SkippedReport(
            date=p.session_date.isoformat(), slot=p.slot, start_time=f"{p.start_time:%H:%M}",
            end_time=f"{p.end_time:%H:%M}", session_type=p.session_type.value,
            session_type_label=p.session_type.label, resources=[c.resource for c in described], clashes=described,
            message=" ".join(c.message for c in described)))
    return reports


@dataclass(frozen=True)
class CapacityWarning:
    room_id: int
    room: str
    capacity: int
    trainees: int
    code: str = "room_capacity"

    @property
    def message(self) -> str:
        return f"{self.room} seats {self.capacity} but the cohort has {self.trainees} trainees."


def capacity_warnings(session: Session, cohort: Cohort, slots: Iterable[Slot]) -> list[CapacityWarning]:
    """Rooms too small for the cohort's roster (or its expected size): worth a warning, not a refusal."""
    room_ids = {s.room_id for s in slots if s.room_id is not None}
    if not room_ids:
        return []
    trainees = max(roster_sizes(session, [cohort.id]).get(cohort.id, 0), cohort.expected_trainee_count or 0)
    rooms = session.execute(select(Room.id, Room.name, Room.capacity).where(Room.id.in_(room_ids))).all()
    return [CapacityWarning(rid, name, capacity, trainees)
            for rid, name, capacity in rooms if capacity is not None and capacity < trainees]
