"""Typed commands the scheduling use cases take; the API, the screens, the CLI and tasks build them.

The same models are the API's request schemas: a plan, a session edit, rooms, holidays, feeds and the
list and calendar queries. Rules that need the database (does room 7 exist here? is the room free?)
stay in the use cases; these only fix shapes and bounds.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from core.fields import FIRST_DAY, LAST_DAY, Command, Day, Id, PageQuery, SearchText, clean_text, never_null
from core.models import SessionType
from core.models.sessions import FeedKind

from .planner import MAX_SLOTS, OnConflict

WEEKDAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
WORKING_WEEK = [0, 1, 2, 3, 4]
MAX_EXCLUDED_DATES = 1000


def _wall_clock(value: dt.time) -> dt.time:
    """Slot times are wall-clock times in the institution's zone: an offset or microseconds mean nothing."""
    return value.replace(tzinfo=None, microsecond=0)


WallClock = Annotated[dt.time, AfterValidator(_wall_clock), Field(description="HH:MM, in the institution's zone.")]
Weekday = Annotated[int, Field(ge=0, le=6)] | Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
RoomName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(clean_text)]
Label = Annotated[str, Field(max_length=200), AfterValidator(clean_text)]
LongText = Annotated[str, Field(max_length=5000), AfterValidator(clean_text)]
Reason = Annotated[str, Field(max_length=500), AfterValidator(clean_text)]
Capacity = Annotated[int, Field(ge=1, le=10000)]


def _session_type(value: Any) -> Any:
    """`practical`, `Practical` and an empty form field (THEORY) are accepted as before."""
    if value in (None, ""):
        return SessionType.THEORY
    return value.strip().upper() if isinstance(value, str) else value


class PlanSlot(Command):
    start: WallClock
    end: WallClock
    session_type: SessionType = SessionType.THEORY
    room_id: Id | None = None
    instructor_id: Id | None = None

    @field_validator("session_type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return _session_type(value)


class SchedulePlan(Command):
    """A cohort's programme: every chosen weekday in the range, one or two slots a day, minus excluded dates."""

    start_date: Day | None = Field(None, description="Defaults to the cohort's start date.")
    end_date: Day | None = Field(None, description="Defaults to the cohort's end date.")
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WORKING_WEEK),
                                    description="0 (Monday) … 6 (Sunday), or mon … sun.")
    slots: list[PlanSlot] = Field(min_length=1, max_length=MAX_SLOTS)
    excluded_dates: list[Day] = Field(default_factory=list, max_length=MAX_EXCLUDED_DATES)
    use_holidays: bool = Field(True, description="Skip the holidays the institution added.")
    use_public_holidays: bool = Field(True, description="Skip the public holidays of the institution's country "
                                                        "(GET /api/holidays lists them).")
    on_conflict: OnConflict = Field(OnConflict.SKIP, description="skip: leave clashing sessions out; "
                                                                 "refuse: write nothing if anything clashes.")
    dry_run: bool = Field(False, description="Answer what would happen; write nothing.")

    @field_validator("weekdays", mode="before")
    @classmethod
    def _weekday_numbers(cls, value: Any) -> Any:
        """Names (any case, `monday` too) and digit strings become numbers; anything else is one error."""
        if value is None:
            return list(WORKING_WEEK)
        if not isinstance(value, list):
            raise ValueError("weekdays is a list: 0 (Monday) … 6 (Sunday) or mon … sun")
        days = []
        for item in value:
            if isinstance(item, str) and item[:3].lower() in WEEKDAY_NAMES:
                days.append(WEEKDAY_NAMES[item[:3].lower()])
            elif isinstance(item, int | str) and not isinstance(item, bool) and str(item).isdecimal() \
                    and 0 <= int(item) <= 6:
                days.append(int(item))
            else:
                raise ValueError(f"not a weekday: {str(item)[:20]!r}")
        return days

    @field_validator("on_conflict", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.weekdays)  # the validator turned names into numbers

    def stored(self) -> dict[str, Any]:
        """The plan as a background run keeps it (and reads it back with `model_validate`)."""
        return self.model_dump(mode="json", exclude={"dry_run"})


class EditSession(Command):
    """The fields to change; a field left out keeps its value, `null` clears room, instructor or a text."""

    # An unknown field is a mistake worth a 422, not a silent no-op; an empty edit is one too.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    session_date: Day | None = never_null()
    date: Day | None = never_null(description="Same as session_date.")
    start_time: WallClock | None = never_null()
    end_time: WallClock | None = never_null()
    session_type: SessionType | None = never_null()
    room_id: Id | None = None
    instructor_id: Id | None = None
    title: Label | None = None
    location: Label | None = None
    notes: LongText | None = None

    @field_validator("session_type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_date(self) -> EditSession:
        if "date" in self.model_fields_set:
            self.session_date = self.date
            self.model_fields_set.add("session_date")
        if "session_date" in self.model_fields_set and self.session_date is None:
            raise ValueError("session_date can't be empty")
        for name in ("start_time", "end_time", "session_type"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} can't be empty")
        if not self.changed():
            raise ValueError("send at least one field to change")
        return self

    def changed(self) -> set[str]:
        return self.model_fields_set - {"date"}


class CancelSession(Command):
    reason: Reason | None = None


class CreateRoom(Command):
    name: RoomName
    capacity: Capacity | None = None
    location: Label | None = None


class UpdateRoom(Command):
    name: RoomName | None = never_null()
    capacity: Capacity | None = None
    location: Label | None = None
    is_active: bool | None = never_null()

    @model_validator(mode="after")
    def _name_stays(self) -> UpdateRoom:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("a room keeps a name")
        if "is_active" in self.model_fields_set and self.is_active is None:
            raise ValueError("is_active is true or false")
        return self


class CreateHoliday(Command):
    date: Day
    name: RoomName


class CreateFeed(Command):
    kind: FeedKind
    subject_id: Id | None = Field(None, description="The facilitator's, cohort's or room's id "
                                                    "(a facilitator's own feed may leave it out).")

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class SessionsQuery(PageQuery):
    q: SearchText | None = None
    include_cancelled: bool = True


class RoomsQuery(PageQuery):
    q: SearchText | None = None
    include_inactive: bool = False


class HolidaysQuery(PageQuery):
    per_page: int = Field(100, ge=1, le=1000)
    year: int | None = Field(None, ge=FIRST_DAY.year, le=LAST_DAY.year,
                             description="Defaults to the current year (the institution's time zone).")
    q: SearchText | None = None
    source: Literal["public", "institution"] | None = Field(
        None, description="public: the country's public holidays; institution: the days the institution added.")


def _window_bound(value: str) -> str:
    """A date or an ISO 8601 date-time, within the years a schedule may name (the zone is applied later)."""
    try:
        parsed = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("a date YYYY-MM-DD or an ISO 8601 date-time") from None
    if not FIRST_DAY.year < parsed.year < LAST_DAY.year:
        raise ValueError(f"a year between {FIRST_DAY.year + 1} and {LAST_DAY.year - 1}")
    return value


def _window_bound_schema(schema: dict[str, Any]) -> None:
    """Published as what _window_bound accepts: a date or a date-time, in a year strictly inside the range."""
    first, last = FIRST_DAY.year, LAST_DAY.year
    assert (first, last) == (1900, 2999), "the pattern below names these years"
    in_range = "^(19(0[1-9]|[1-9][0-9])|2([0-8][0-9][0-9]|9([0-8][0-9]|9[0-8])))-"  # 1901 … 2998
    schema.clear()
    schema.update(anyOf=[{"type": "string", "format": "date", "pattern": in_range},
                         {"type": "string", "format": "date-time", "maxLength": 40, "pattern": in_range}])


WindowBound = Annotated[str, Field(min_length=1, max_length=40, json_schema_extra=_window_bound_schema),
                        AfterValidator(clean_text), AfterValidator(_window_bound)]


class CalendarQuery(Command):
    """Events in [start, end): a date `end` is exclusive; at most 100 days."""

    start: WindowBound = Field(description="A date (local midnight) or an ISO 8601 date-time.")
    end: WindowBound = Field(description="A date (local midnight, exclusive) or an ISO 8601 date-time.")
    cohort: Id | None = None
    room: Id | None = None
    instructor: Id | None = None
    include_cancelled: bool = False
