"""The one source of "now". Tests move it with `frozen_at`; code asks `now()` or `today_in(zone)`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def today_in(zone: str) -> dt.date:
    return now().astimezone(ZoneInfo(zone)).date()


def local_to_utc(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """A wall-clock time in `zone` as a UTC instant (fold=0: the first of an ambiguous hour)."""
    return dt.datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


@contextmanager
def frozen_at(instant: dt.datetime) -> Iterator[None]:
    global _frozen
    previous, _frozen = _frozen, instant.astimezone(dt.UTC)
    try:
        yield
    finally:
        _frozen = previous
