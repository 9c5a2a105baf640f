"""Pure portal rules: attendance rates and session delivery. No database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from core.models import AttendanceStatus, SessionStatus

STATUSES = tuple(s.value for s in AttendanceStatus)
ATTENDED = ("PRESENT", "LATE")
DELIVERED, CANCELLED, PLANNED, NOT_MARKED = "delivered", "cancelled", "planned", "not_marked"


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(STATUSES, 0)


def attendance_rate(counts: Mapping[str, int]) -> float | None:
    """Attended (present or late) over attended plus absent; EXCUSED counts neither way (as the at-risk
    rule). None when nobody was marked present, late or absent."""
    attended = sum(counts.get(s, 0) for s in ATTENDED)
    counted = attended + counts.get("ABSENT", 0)
    return round(attended / counted, 4) if counted else None


def delivery(status: SessionStatus | str, ends_at: dt.datetime, now: dt.datetime, marked: bool | None = None) -> str:
    """Planned until it ends; then delivered if its register holds marks, else not marked (nothing says it was
    held). Cancelled whenever it was cancelled. `marked=None` (not known to the caller) reads as marked."""
    if SessionStatus(status) == SessionStatus.CANCELLED:
        return CANCELLED
    if ends_at > now:
        return PLANNED
    return NOT_MARKED if marked is False else DELIVERED


def hours(start: dt.time, end: dt.time) -> float:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return round(max(minutes, 0) / 60, 2)
