"""The one source of "now". Code asks `now()` or `today_in(zone)`; nothing else reads the wall clock.

Tests move it two ways:
- `frozen_at(instant)`: the clock stands still at `instant` (pure rules, one service call);
- `pin(instant, since)` / `pinned_at(instant)`: the clock reads `instant` at the real moment `since` and runs on
  at the real rate from there. The suite pins every process it starts (itself, its live server and worker
  threads, worker subprocesses through `CLOCK_FROZEN_AT` / `CLOCK_FROZEN_SINCE`) to one instant, so they agree
  on the time to the millisecond, while heartbeats, timeouts and "stale after 45 s" still see time pass.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

_frozen: dt.datetime | None = None
_pinned: tuple[dt.datetime, float] | None = None  # (the instant, the real Unix time at which it was read)


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    if _pinned is not None:
        instant, since = _pinned
        return instant + dt.timedelta(seconds=time.time() - since)
    return dt.datetime.now(dt.UTC)


def today_in(zone: str) -> dt.date:
    return now().astimezone(ZoneInfo(zone)).date()


def local_to_utc(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """A wall-clock time in `zone` as a UTC instant (fold=0: the first of an ambiguous hour)."""
    return dt.datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (`2026-11-17T09:30:00+00:00`, `…Z`); a naive one is refused."""
    instant = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset: write it as 2026-11-17T09:30:00+00:00")
    return instant.astimezone(dt.UTC)


def pin(instant: dt.datetime, since: float | None = None) -> None:
    """From now on the clock reads `instant` at real Unix time `since` (default: this moment), and runs on."""
    global _pinned
    _pinned = (instant.astimezone(dt.UTC), time.time() if since is None else since)


def pinning() -> tuple[dt.datetime, float] | None:
    """The pin in force, to hand to another process (`CLOCK_FROZEN_AT`, `CLOCK_FROZEN_SINCE`)."""
    return _pinned


@contextmanager
def pinned_at(instant: dt.datetime) -> Iterator[None]:
    """The clock reads `instant` now and runs on from there, until the block ends."""
    global _pinned
    previous = _pinned
    pin(instant)
    try:
        yield
    finally:
        _pinned = previous


@contextmanager
def wall_clock() -> Iterator[None]:
    """The real clock, until the block ends (a test that must pass at whatever hour it runs)."""
    global _pinned
    previous, _pinned = _pinned, None
    try:
        yield
    finally:
        _pinned = previous


@contextmanager
def frozen_at(instant: dt.datetime) -> Iterator[None]:
    global _frozen
    previous, _frozen = _frozen, instant.astimezone(dt.UTC)
    try:
        yield
    finally:
        _frozen = previous
