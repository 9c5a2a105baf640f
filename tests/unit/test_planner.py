"""The pure planner: expansion (weekdays, holidays, slots, DST) and conflict checks (kinds, policies)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from core.models.enums import SessionType
from core.scheduling.planner import (
    Busy,
    OnConflict,
    Plan,
    Resource,
    Slot,
    check,
    expand,
    plan_sessions,
    validate_plan,
)

MON = dt.date(2026, 1, 5)  # a Monday
T = dt.time
UTC = dt.UTC
MORNING = Slot(T(9), T(12), SessionType.THEORY, room_id=1, instructor_id=10)
AFTERNOON = Slot(T(13), T(16), SessionType.PRACTICAL, room_id=2, instructor_id=11)


def plan(**kw) -> Plan:
    values = dict(cohort_id=100, start_date=MON, end_date=MON + dt.timedelta(days=13),
                  weekdays=frozenset(range(5)), slots=(MORNING,), zone="UTC")
    values.update(kw)
    return Plan(**values)


def busy(session_id: int, start: dt.datetime, hours: int = 3, *, cohort: int = 999, room: int | None = None,
         instructor: int | None = None) -> Busy:
    return Busy(session_id, cohort, room, instructor, start, start + dt.timedelta(hours=hours))


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, T(hour), tzinfo=UTC)


def test_expand_keeps_only_the_chosen_weekdays():
    sessions = expand(plan(weekdays=frozenset({0, 2})))
    assert {s.session_date.weekday() for s in sessions} == {0, 2}
    assert len(sessions) == 4


def test_expand_skips_excluded_dates():
    holiday = MON + dt.timedelta(days=2)
    sessions = expand(plan(excluded_dates=frozenset({holiday})))
    assert holiday not in {s.session_date for s in sessions}
    assert len(sessions) == 9


def test_expand_two_slots_numbers_them_by_start_time():
    sessions = expand(plan(slots=(AFTERNOON, MORNING), end_date=MON))
    assert [(s.slot, s.start_time, s.room_id) for s in sessions] == [(1, T(9), 1), (2, T(13), 2)]


def test_expand_across_the_spring_dst_change_keeps_local_time():
    # Europe/Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026.
    sessions = expand(plan(zone="Europe/Paris", start_date=dt.date(2026, 3, 27), end_date=dt.date(2026, 3, 30),
                           weekdays=frozenset(range(7))))
    by_day = {s.session_date: s for s in sessions}
    assert by_day[dt.date(2026, 3, 28)].starts_at == dt.datetime(2026, 3, 28, 8, tzinfo=UTC)
    assert by_day[dt.date(2026, 3, 30)].starts_at == dt.datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert all(s.start_time == T(9) for s in sessions)


def test_expand_across_the_autumn_dst_change_keeps_local_time():
    sessions = expand(plan(zone="Europe/Paris", start_date=dt.date(2026, 10, 23), end_date=dt.date(2026, 10, 26)))
    starts = {s.session_date: s.starts_at.hour for s in sessions}
    assert starts == {dt.date(2026, 10, 23): 7, dt.date(2026, 10, 26): 8}


def test_validate_plan_reports_overlapping_slots_and_bad_ranges():
    bad = plan(slots=(MORNING, Slot(T(11), T(14))), end_date=MON - dt.timedelta(days=1), weekdays=frozenset())
    problems = validate_plan(bad)
    assert "The two slots overlap." in problems
    assert "The end date is before the start date." in problems
    assert "Choose at least one weekday." in problems


def test_room_clash_with_an_existing_session_is_reported_and_skipped():
    other = busy(7, at(MON, 10), room=1)
    result = check(expand(plan(end_date=MON)), [other])
    assert result.to_create == []
    [clash] = result.clashes
    assert (clash.resource, clash.resource_id, clash.other.session_id) == (Resource.ROOM, 1, 7)
    assert clash.planned.session_date == MON and clash.planned.slot == 1


def test_instructor_clash_with_an_existing_session_is_reported():
    result = check(expand(plan(end_date=MON)), [busy(8, at(MON, 11), instructor=10)])
    assert [(c.resource, c.resource_id) for c in result.clashes] == [(Resource.INSTRUCTOR, 10)]


def test_cohort_clash_with_an_existing_session_is_reported():
    result = check(expand(plan(end_date=MON)), [busy(9, at(MON, 8), cohort=100)])
    assert [(c.resource, c.resource_id) for c in result.clashes] == [(Resource.COHORT, 100)]


def test_sessions_that_only_touch_do_not_clash():
    result = check(expand(plan(end_date=MON)), [busy(7, at(MON, 12), room=1), busy(8, at(MON, 6), room=1)])
    assert result.clashes == [] and len(result.to_create) == 1


def test_cancelled_sessions_are_not_busy_so_the_caller_leaves_them_out():
    # The service passes only non-cancelled sessions; an empty busy list means a free slot.
    assert len(check(expand(plan(end_date=MON)), []).to_create) == 1


def test_clash_inside_the_same_run_between_two_cohorts():
    a = plan(cohort_id=1)
    b = plan(cohort_id=2, slots=(Slot(T(10), T(11), room_id=1, instructor_id=50),))
    result = plan_sessions([a, b], [])
    assert len(result.to_create) == 10
    assert {(c.planned.cohort_id, c.resource) for c in result.clashes} == {(2, Resource.ROOM)}
    assert all(c.other.cohort_id == 1 for c in result.clashes)


def test_skip_writes_the_rest():
    result = check(expand(plan()), [busy(7, at(MON, 9), room=1)], OnConflict.SKIP)
    assert len(result.to_create) == 9 and len(result.clashes) == 1 and not result.refused


def test_refuse_writes_nothing():
    result = check(expand(plan()), [busy(7, at(MON, 9), room=1)], OnConflict.REFUSE)
    assert result.refused and result.to_create == [] and len(result.clashes) == 1


def test_reapplying_a_plan_finds_everything_already_scheduled():
    first = check(expand(plan()), [])
    existing = [Busy(i, p.cohort_id, p.room_id, p.instructor_id, p.starts_at, p.ends_at)
                for i, p in enumerate(first.to_create, start=1)]
    again = check(expand(plan()), existing)
    assert again.to_create == [] and again.clashes == [] and len(again.already_scheduled) == 10


intervals = st.lists(
    st.tuples(st.integers(0, 200), st.integers(1, 30), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(existing=intervals, wanted=intervals)
def test_no_resource_is_ever_double_booked(existing, wanted):
    """Property: whatever the input, created + existing never overlap on any resource, and nothing is lost."""
    base = dt.datetime(2026, 1, 1, tzinfo=UTC)
    mins = dt.timedelta(minutes=1)
    busy_list = [Busy(i, c, r, n, base + s * mins, base + (s + d) * mins)
                 for i, (s, d, c, r, n) in enumerate(existing)]
    # Existing sessions are themselves conflict-free (the database guarantees it): keep a free subset.
    busy_list = [b for b in busy_list if not any(
        o.session_id < b.session_id and o.starts_at < b.ends_at and b.starts_at < o.ends_at
        and (o.cohort_id == b.cohort_id or o.room_id == b.room_id or o.instructor_id == b.instructor_id)
        for o in busy_list)]
    planned = [expand(Plan(c, dt.date(2026, 1, 1), dt.date(2026, 1, 1), frozenset(range(7)),
                           (Slot(T(0), T(1), room_id=r, instructor_id=n),), "UTC"))[0]
               ._replace(starts_at=base + s * mins, ends_at=base + (s + d) * mins)
               for s, d, c, r, n in wanted]
    result = check(planned, busy_list)
    everything = [*busy_list, *result.to_create]
    for i, a in enumerate(everything):
        for b in everything[i + 1:]:
            if a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                assert a.cohort_id != b.cohort_id and a.room_id != b.room_id and a.instructor_id != b.instructor_id
    clashed = {id(c.planned) for c in result.clashes}
    assert len(result.to_create) + len(result.already_scheduled) + len(clashed) == len(planned)
