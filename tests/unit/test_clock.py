"""The one clock: frozen, pinned (and running on), or the wall's; and who may pin it by setting."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core import clock
from web import create_app
from web.config import load_settings

INSTANT = dt.datetime(2026, 11, 17, 23, 5, tzinfo=dt.UTC)


def test_a_pinned_clock_reads_its_instant_then_runs_on_at_the_real_rate():
    with clock.pinned_at(INSTANT):
        first = clock.now()
        time.sleep(0.05)
        second = clock.now()
    assert dt.timedelta(0) <= first - INSTANT < dt.timedelta(seconds=1)
    assert dt.timedelta(milliseconds=40) <= second - first < dt.timedelta(seconds=1)


def test_two_processes_given_the_same_pin_agree_to_the_millisecond():
    since = time.time() - 30  # pinned half a minute ago, in another process
    with clock.pinned_at(INSTANT):
        clock.pin(INSTANT, since)
        assert abs(clock.now() - (INSTANT + dt.timedelta(seconds=30))) < dt.timedelta(seconds=1)


def test_a_frozen_clock_stands_still_and_beats_a_pin():
    with clock.pinned_at(INSTANT), clock.frozen_at(INSTANT - dt.timedelta(days=1)):
        time.sleep(0.01)
        assert clock.now() == INSTANT - dt.timedelta(days=1)


def test_the_wall_clock_block_reads_the_real_time_and_restores_the_pin():
    with clock.pinned_at(INSTANT):
        with clock.wall_clock():
            assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=1)
        assert clock.now() - INSTANT < dt.timedelta(seconds=1)


def test_today_follows_the_zone_of_the_pinned_instant():
    with clock.frozen_at(INSTANT):  # 23:05 UTC: already Wednesday in Algiers and Johannesburg
        assert clock.today_in("UTC") == dt.date(2026, 11, 17)
        assert clock.today_in("Africa/Algiers") == clock.today_in("Africa/Johannesburg") == dt.date(2026, 11, 18)


@pytest.mark.parametrize("text", ["2026-11-17T23:05:00+00:00", "2026-11-17T23:05:00Z", "2026-11-18T00:05:00+01:00"])
def test_instants_are_read_with_their_offset(text):
    assert clock.parse_instant(text) == INSTANT


def test_an_instant_without_an_offset_is_refused():
    with pytest.raises(ValueError, match="no UTC offset"):
        clock.parse_instant("2026-11-17T23:05:00")


def test_clock_frozen_at_is_ignored_outside_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    settings = load_settings({"CLOCK_FROZEN_AT": "2001-01-01T00:00:00+00:00", "TESTING": False,
                              "APP_ENV": "development"})
    with clock.wall_clock():
        create_app(settings)
        assert clock.now().year > 2001


def test_a_worker_under_test_reads_the_suites_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    since = time.time() - 60
    settings = load_settings({"CLOCK_FROZEN_AT": INSTANT.isoformat(), "CLOCK_FROZEN_SINCE": since,
                              "APP_ENV": "testing"})
    with clock.wall_clock():
        create_app(settings)
        assert abs(clock.now() - (INSTANT + dt.timedelta(seconds=60))) < dt.timedelta(seconds=1)
