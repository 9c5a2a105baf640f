"""Self check-in rules (core.checkin.rules): when check-in may open, PRESENT or LATE, networks and geofence."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from core.checkin import rules

START = dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=1)


def test_check_in_may_open_15_minutes_before_the_start():
    assert rules.may_open(START, END, START - dt.timedelta(minutes=15))


def test_check_in_may_not_open_16_minutes_before_the_start():
    assert not rules.may_open(START, END, START - dt.timedelta(minutes=16))


def test_check_in_may_not_open_once_the_session_ended():
    assert not rules.may_open(START, END, END)


def test_arrival_within_the_grace_is_present():
    assert rules.arrival_mark(START, START + dt.timedelta(minutes=10, seconds=59), 10) == ("PRESENT", None)


def test_arrival_after_the_grace_is_late_by_the_minutes_since_the_start():
    assert rules.arrival_mark(START, START + dt.timedelta(minutes=11), 10) == ("LATE", 11)


def test_early_arrival_is_present():
    assert rules.arrival_mark(START, START - dt.timedelta(minutes=5), 10) == ("PRESENT", None)


@pytest.mark.parametrize(("address", "allowed"), [("10.20.3.4", True), ("10.21.0.1", False), ("::ffff:10.20.0.9", True),
                                                  ("", False), ("not an address", False), (None, False)])
def test_address_in_the_network_list(address, allowed):
    assert rules.address_allowed(address, ("10.20.0.0/16",)) is allowed


def test_no_network_list_allows_any_address():
    assert rules.address_allowed(None, ())


def test_networks_are_normalized_and_bad_ones_named():
    assert rules.parse_networks(["10.20.3.4/16", " 2001:db8::/32 "]) == ("10.20.0.0/16", "2001:db8::/32")
    with pytest.raises(ValueError, match=r"10\.300\.0\.0/16"):
        rules.parse_networks(["10.300.0.0/16"])


FENCE = rules.Settings(geofence_lat=36.7538, geofence_lon=3.0588, geofence_radius_m=200)


def test_inside_the_geofence_is_no_distance():
    assert rules.outside_geofence(FENCE, 36.7540, 3.0590) is None


def test_outside_the_geofence_is_its_distance():
    assert round(rules.outside_geofence(FENCE, 36.7628, 3.0588)) == 1001


def test_no_position_is_infinitely_far():
    assert rules.outside_geofence(FENCE, None, None) == math.inf


def test_no_geofence_checks_nothing():
    assert rules.outside_geofence(rules.Settings(), None, None) is None
