"""Marking rules, pure: what a valid mark is, and what "mark all present" adds. No database, no Flask.

The service feeds these functions the command's records (their own fields judged by commands.MarkRecord) and
the register's member ids and gets back either marks or one error per bad record (index, field, reason), so
nothing is written when any is bad.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from core.i18n import N_
from core.models import AttendanceStatus

STATUSES: tuple[str, ...] = tuple(s.value for s in AttendanceStatus)
MAX_MINUTES_LATE = 600
MAX_NOTES = 500
MAX_RECORDS = 2000
LOCK_REASON_MAX = 300
# Keys a record may use for the member id: "enrolment_id" (public), "trainee_id" (corporate), or "id" (either).
KEY_FIELDS = {"public": "enrolment_id", "corporate": "trainee_id"}


@dataclass(frozen=True)
class Mark:
    """One normalized mark for one member of the register."""

    member_id: int
    status: str
    minutes_late: int | None
    notes: str | None
    expected_version: int | None = None

    def values(self) -> tuple[str, int | None, str | None]:
        return (self.status, self.minutes_late, self.notes)


@dataclass(frozen=True)
class RecordError:
    index: int
    field: str
    reason: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason, "message": self.message,
                "value": self.value}


def _plain_mark(record: Any, own_key: str, members: Mapping[int, Any] | Iterable[int]) -> Mark | None:
    """The common record: its own key names someone on the register, and its fields passed the command's rules
    (`problems` empty: commands.MarkRecord).
    None sends anything else the long way, which gives the same Mark or says what is wrong. A bulk mark of 500
    spent more time here than in its SQL."""
    member_id = getattr(record, own_key)
    if member_id is None or member_id not in members or record.problems:
        return None
    return Mark(member_id, record.status, record.minutes_late, record.notes, record.expected_version)


def parse_mark(index: int, record: Any, cohort_kind: str, members: Mapping[int, Any] | Iterable[int]
               ) -> tuple[Mark | None, list[RecordError]]:
    """Check one record of the command (a commands.MarkRecord, its fields already judged by the command) against
    the register: the cohort's key, membership. `cohort_kind` is "public" or "corporate"."""
    if (plain := _plain_mark(record, KEY_FIELDS[cohort_kind], members)) is not None:
        return plain, []
    return judge_record(index, record, cohort_kind, members)


def judge_record(index: int, record: Any, cohort_kind: str, members: Mapping[int, Any] | Iterable[int]
                 ) -> tuple[Mark | None, list[RecordError]]:
    """parse_mark the long way: every finding on the record, in the order the API has always listed them."""
    own_key = KEY_FIELDS[cohort_kind]
    sent = record.model_fields_set
    other_key = KEY_FIELDS["corporate" if cohort_kind == "public" else "public"]
    if other_key in sent and own_key not in sent:
        return None, [RecordError(index, other_key, "wrong_cohort_type",
                                  f"This is a {cohort_kind} cohort: identify trainees by {own_key}.",
                                  getattr(record, other_key))]
    member_id = getattr(record, own_key) if own_key in sent else record.id
    errors: list[RecordError] = []
    if member_id is None:
        errors.append(RecordError(index, own_key, "required", f"{own_key} is required and must be a number.", None))
    elif member_id not in members:
        errors.append(RecordError(index, own_key, "not_in_cohort",
                                  "This trainee is not on this session's register.", member_id))
    errors.extend(record.problems)  # the command's own findings (commands.RefusedRecord), if any
    if errors or member_id is None:
        return None, errors
    return Mark(member_id, record.status, record.minutes_late, record.notes, record.expected_version), []


def parse_marks(records: Sequence[Any], cohort_kind: str, members: Mapping[int, Any] | Iterable[int]
                ) -> tuple[list[Mark], list[RecordError]]:
    """Check every record of a command against the register (its list and its fields are the command's to
    judge: commands.MarkRegister); a member named twice is an error (which of the two would win?)."""
    member_set = members if isinstance(members, Mapping) else set(members)
    marks: list[Mark] = []
    errors: list[RecordError] = []
    seen: dict[int, int] = {}
    for index, raw in enumerate(records):
        mark, problems = parse_mark(index, raw, cohort_kind, member_set)
        errors.extend(problems)
        if mark is None:
            continue
        if mark.member_id in seen:
            errors.append(RecordError(index, KEY_FIELDS[cohort_kind], "duplicate",
                                      f"This trainee is already in record {seen[mark.member_id]}.", mark.member_id))
            continue
        seen[mark.member_id] = index
        marks.append(mark)
    return marks, errors


def fill_unmarked(marks: Sequence[Mark], roster: Iterable[int], already_marked: Iterable[int]) -> list[Mark]:
    """"Mark all present": add PRESENT for every member neither marked before nor in this request."""
    taken = set(already_marked) | {m.member_id for m in marks}
    return list(marks) + [Mark(member_id, AttendanceStatus.PRESENT.value, None, None)
                          for member_id in roster if member_id not in taken]


def needs_write(mark: Mark, current: tuple[str, int | None, str | None] | None) -> bool:
    """A mark is written only when it differs from what is stored (so resending changes nothing)."""
    return current is None or tuple(current) != mark.values()


def mark_values(values: tuple[str, int | None, str | None] | None) -> dict[str, Any] | None:
    """A mark's (status, minutes late, notes) as an audit event's before or after."""
    if values is None:
        return None
    return {"status": values[0], "minutes_late": values[1], "notes": values[2]}


def version_conflict(mark: Mark, current_version: int | None) -> bool:
    """True when the client saw another version than the stored one (0 / None stored: never marked)."""
    if mark.expected_version is None:
        return False
    return mark.expected_version != (current_version or 0)


def check_reason(reason: Any) -> str:
    """Lock and unlock need a reason: 1–300 characters of text. Returns it trimmed; raises ValueError."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(N_("A reason is required."))
    reason = reason.strip()
    if len(reason) > LOCK_REASON_MAX:
        raise ValueError(N_("The reason must be at most %(limit)s characters."), {"limit": LOCK_REASON_MAX})
    return reason


def status_counts(statuses: Iterable[str | None]) -> dict[str, int]:
    counts = dict.fromkeys([*STATUSES, "UNMARKED"], 0)
    for status in statuses:
        counts[status or "UNMARKED"] += 1
    return counts


def auto_lock_at(session_date: dt.date, ends_at: dt.datetime, zone: str, grace_hours: int) -> dt.datetime:
    """A session's cut-off: the end of its local day (or its end, if later) + grace. From then on it is locked."""
    end_of_day = dt.datetime.combine(session_date + dt.timedelta(days=1), dt.time(0), tzinfo=ZoneInfo(zone))
    if ends_at.tzinfo is None:  # SQLite hands back naive UTC
        ends_at = ends_at.replace(tzinfo=dt.UTC)
    return max(ends_at, end_of_day.astimezone(dt.UTC)) + dt.timedelta(hours=grace_hours)


def locked_now(is_locked: bool, cutoff: dt.datetime, relock_after: dt.datetime | None, now: dt.datetime) -> bool:
    """The lock rule: locked by hand (or recorded by the nightly job), or past its cut-off unless an unlock
    with a later `relock_after` is in force. Whether the nightly job ran changes nothing."""
    if is_locked:
        return True
    return cutoff <= now and not (relock_after is not None and relock_after > now)


# Statuses that describe something that happened: refused before the session starts. EXCUSED (an apology)
# may be recorded in advance.
NEEDS_STARTED = frozenset({AttendanceStatus.PRESENT.value, AttendanceStatus.LATE.value, AttendanceStatus.ABSENT.value})


def not_started_errors(marks: Sequence[Mark], indexes: Mapping[int, int]) -> list[RecordError]:
    """One error per mark that says PRESENT, LATE or ABSENT for a session that has not started yet.
    `indexes` maps member id → the record's index in the request (-1 for rows added by "mark all present")."""
    return [RecordError(indexes.get(m.member_id, -1), "status", "session_not_started",
                        f"{m.status} can be recorded only once the session has started; "
                        "EXCUSED may be recorded in advance.", m.status)
            for m in marks if m.status in NEEDS_STARTED]
