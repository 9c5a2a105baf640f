"""Schedule planning, pure: expand a plan into sessions, then find every double-booking.

No database, no Flask. The service feeds in the plan and the busy sessions it read; this module
answers "what would be created, what already exists, and what clashes with what".

Time: slot times are wall-clock times in the institution's zone; each planned session carries its
UTC instants (`zoneinfo`, so a DST change moves the UTC time, not the local one). Intervals are
half-open `[start, end)`: a session ending at 12:00 and one starting at 12:00 do not clash.

Conflicts: a room, an instructor or a cohort can't be in two overlapping non-cancelled sessions.
Checked against existing sessions (a sorted interval index: starts + prefix-max of ends, one
bisect per resource) and against sessions planned in the same run (a sweep in start order keeping,
per resource, the latest end seen so far) — O(n log n) overall, no query per session.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.i18n import N_, Said
from core.models.enums import SessionType

UTC = dt.UTC
MAX_SLOTS = 2


class OnConflict(StrEnum):
    SKIP = "skip"      # leave the clashing session out, report it, write the rest
    REFUSE = "refuse"  # any clash: write nothing


class Resource(StrEnum):
    ROOM = "room"
    INSTRUCTOR = "instructor"
    COHORT = "cohort"


@dataclass(frozen=True)
class Slot:
    start: dt.time
    end: dt.time
    session_type: SessionType = SessionType.THEORY
    room_id: int | None = None
    instructor_id: int | None = None


@dataclass(frozen=True)
class Plan:
    """One cohort's programme: every chosen weekday in [start_date, end_date], minus excluded dates."""

    cohort_id: int
    start_date: dt.date
    end_date: dt.date
    weekdays: frozenset[int]  # 0 = Monday … 6 = Sunday
    slots: tuple[Slot, ...]
    zone: str
    excluded_dates: frozenset[dt.date] = field(default_factory=frozenset)
    on_conflict: OnConflict = OnConflict.SKIP


class PlannedSession(NamedTuple):
    cohort_id: int
    session_date: dt.date
    slot: int  # 1 or 2
    start_time: dt.time
    end_time: dt.time
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime    # UTC
    session_type: SessionType
    room_id: int | None
    instructor_id: int | None


class Busy(NamedTuple):
    """An existing, non-cancelled session as far as conflicts go."""

    session_id: int
    cohort_id: int
    room_id: int | None
    instructor_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime


class Clash(NamedTuple):
    """`planned` can't happen: its `resource` (`resource_id`) is already taken by `other`.

    `other` is a Busy (an existing session) or a PlannedSession (planned earlier in the same run).
    """

    planned: PlannedSession
    resource: Resource
    resource_id: int
    other: Busy | PlannedSession


@dataclass
class PlanResult:
    to_create: list[PlannedSession]
    already_scheduled: list[PlannedSession]  # identical to an existing session: re-applying is a no-op
    clashes: list[Clash]
    refused: bool = False

    @property
    def planned_count(self) -> int:
        return len(self.to_create) + len(self.already_scheduled) + len(self.skipped)

    @property
    def skipped(self) -> dict[PlannedSession, list[Clash]]:
        """Each planned session left out, with every clash that made it so (one per resource), in plan order."""
        grouped: dict[PlannedSession, list[Clash]] = {}
        for c in self.clashes:
            grouped.setdefault(c.planned, []).append(c)
        return grouped


def validate_plan(plan: Plan, max_days: int = 800) -> list[Said]:
    """Problems with the plan's shape, as sentences (empty when it can be expanded)."""
    problems = []
    if plan.end_date < plan.start_date:
        problems.append(Said(N_("The end date is before the start date.")))
    elif (plan.end_date - plan.start_date).days > max_days:
        problems.append(Said(N_("A plan may cover at most %(days)s days."), {"days": max_days}))
    if not plan.weekdays:
        problems.append(Said(N_("Choose at least one weekday.")))
    elif not plan.weekdays <= set(range(7)):
        problems.append(Said(N_("Weekdays are 0 (Monday) to 6 (Sunday).")))
    if not 1 <= len(plan.slots) <= MAX_SLOTS:
        problems.append(Said(N_("Give one or %(max)s slots a day."), {"max": MAX_SLOTS}))
    for number, slot in enumerate(plan.slots, start=1):
        if slot.end <= slot.start:
            problems.append(Said(N_("Slot %(n)s ends before it starts."), {"n": number}))
    if len(plan.slots) == 2 and plan.slots[0].start < plan.slots[1].end and plan.slots[1].start < plan.slots[0].end:
        problems.append(Said(N_("The two slots overlap.")))
    try:
        ZoneInfo(plan.zone)
    except (KeyError, ValueError):
        problems.append(Said(N_("Unknown time zone %(zone)s."), {"zone": repr(plan.zone)}))
    return problems


class _UtcCache:
    """Local (date, time) → UTC instant. Many cohorts share dates and slot times: convert each pair once."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.cache: dict[tuple[dt.date, dt.time], dt.datetime] = {}

    def __call__(self, day: dt.date, at: dt.time) -> dt.datetime:
        key = (day, at)
        found = self.cache.get(key)
        if found is None:
            # fold=0: the first of an ambiguous hour; a time in the spring-forward gap keeps the
            # offset from before the change (zoneinfo's rule), i.e. it lands an hour later in wall time.
            found = dt.datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)
            self.cache[key] = found
        return found


def expand(plan: Plan, _cache: _UtcCache | None = None) -> list[PlannedSession]:
    """Every session the plan asks for, in date then slot order (conflicts not yet considered)."""
    to_utc = _cache if _cache is not None and _cache.zone.key == plan.zone else _UtcCache(plan.zone)
    slots = sorted(plan.slots, key=lambda s: s.start)
    out: list[PlannedSession] = []
    day, one = plan.start_date, dt.timedelta(days=1)
    weekdays, excluded = plan.weekdays, plan.excluded_dates
    while day <= plan.end_date:
        if day.weekday() in weekdays and day not in excluded:
            for number, slot in enumerate(slots, start=1):
                out.append(PlannedSession(plan.cohort_id, day, number, slot.start, slot.end,
                                          to_utc(day, slot.start), to_utc(day, slot.end), slot.session_type,
                                          slot.room_id, slot.instructor_id))
        day += one
    return out


class _IntervalIndex:
    """Existing sessions of one resource, sorted by start, with the running max of their ends.

    Some session with start < e and end > s exists iff prefix_max_end[last start < e] > s.
    """

    __slots__ = ("holders", "max_ends", "starts")

    def __init__(self, items: list[Busy]) -> None:
        items.sort(key=lambda b: b.starts_at)
        self.starts = [b.starts_at for b in items]
        self.max_ends: list[dt.datetime] = []
        self.holders: list[Busy] = []
        best: Busy | None = None
        for b in items:
            if best is None or b.ends_at > best.ends_at:
                best = b
            self.max_ends.append(best.ends_at)
            self.holders.append(best)

    def clash(self, start: dt.datetime, end: dt.datetime) -> Busy | None:
        i = bisect_left(self.starts, end) - 1
        if i >= 0 and self.max_ends[i] > start:
            return self.holders[i]
        return None


def _resources(item: PlannedSession | Busy) -> list[tuple[Resource, int]]:
    found = [(Resource.COHORT, item.cohort_id)]
    if item.room_id is not None:
        found.append((Resource.ROOM, item.room_id))
    if item.instructor_id is not None:
        found.append((Resource.INSTRUCTOR, item.instructor_id))
    return found


def check(planned: Sequence[PlannedSession], existing: Iterable[Busy],
          on_conflict: OnConflict = OnConflict.SKIP) -> PlanResult:
    """Split `planned` into sessions to create, sessions that already exist, and clashes.

    A planned session identical to an existing one of the same cohort (same start and end) is
    "already scheduled", not a clash: that is what makes re-applying a plan create nothing twice.
    Among planned sessions, the earlier in (start, input) order wins; the later one is the clash.
    With REFUSE, any clash empties `to_create` and sets `refused`.
    """
    by_resource: dict[tuple[Resource, int], list[Busy]] = {}
    identical: set[tuple[int, dt.datetime, dt.datetime]] = set()
    for b in existing:
        identical.add((b.cohort_id, b.starts_at, b.ends_at))
        for key in _resources(b):
            by_resource.setdefault(key, []).append(b)
    index = {key: _IntervalIndex(items) for key, items in by_resource.items()}

    already: list[PlannedSession] = []
    clashes: list[Clash] = []
    candidates: list[PlannedSession] = []
    for p in planned:
        if (p.cohort_id, p.starts_at, p.ends_at) in identical:
            already.append(p)
            continue
        clashed = False
        for key in _resources(p):
            idx = index.get(key)
            if idx is not None and (other := idx.clash(p.starts_at, p.ends_at)) is not None:
                clashes.append(Clash(p, key[0], key[1], other))
                clashed = True
        if not clashed:
            candidates.append(p)

    # Sweep the survivors in start order: each resource remembers the planned session ending latest.
    candidates.sort(key=lambda p: p.starts_at)  # stable: ties keep input order
    latest: dict[tuple[Resource, int], PlannedSession] = {}
    to_create: list[PlannedSession] = []
    for p in candidates:
        keys = _resources(p)
        clashed = False
        for key in keys:
            holder = latest.get(key)
            if holder is not None and holder.ends_at > p.starts_at:
                clashes.append(Clash(p, key[0], key[1], holder))
                clashed = True
        if clashed:
            continue
        to_create.append(p)
        for key in keys:
            latest[key] = p

    refused = on_conflict == OnConflict.REFUSE and bool(clashes)
    return PlanResult(to_create=[] if refused else to_create, already_scheduled=already, clashes=clashes,
                      refused=refused)


def plan_sessions(plans: Sequence[Plan], existing: Iterable[Busy]) -> PlanResult:
    """Expand several plans (one per cohort) and check them together against `existing` and each other.

    REFUSE applies if any plan asks for it.
    """
    caches: dict[str, _UtcCache] = {}
    planned: list[PlannedSession] = []
    for plan in plans:
        cache = caches.setdefault(plan.zone, _UtcCache(plan.zone))
        planned.extend(expand(plan, cache))
    policy = OnConflict.REFUSE if any(p.on_conflict == OnConflict.REFUSE for p in plans) else OnConflict.SKIP
    return check(planned, existing, policy)
