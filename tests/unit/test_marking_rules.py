"""Pure marking rules: statuses, minutes late, notes, duplicates, mark-all-present, lock times, CSV cells."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.attendance import export, marking
from core.attendance.marking import Mark

ROSTER = {1: True, 2: True, 3: True}


def _errors(records, kind="public", members=ROSTER):
    return marking.parse_marks(records, kind, members)[1]


def test_a_valid_record_is_normalized():
    marks, errors = marking.parse_marks([{"enrolment_id": 1, "status": " late ", "minutes_late": "7",
                                          "notes": "  bus  "}], "public", ROSTER)
    assert errors == [] and marks == [Mark(1, "LATE", 7, "bus")]


def test_unknown_status_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "HERE"}])] == ["invalid_status"]


def test_minutes_late_only_with_late():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "PRESENT", "minutes_late": 3}])] == [
        "only_for_late"]


@pytest.mark.parametrize("minutes", [-1, 601, "ten", 2.5, True])
def test_minutes_late_must_be_0_to_600(minutes):
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "LATE", "minutes_late": minutes}])] == [
        "out_of_range"]


@given(st.integers(min_value=0, max_value=600))
def test_any_minutes_in_range_are_accepted_for_late(minutes):
    marks, errors = marking.parse_marks([{"enrolment_id": 1, "status": "LATE", "minutes_late": minutes}], "public",
                                        ROSTER)
    assert errors == [] and marks[0].minutes_late == minutes


def test_notes_longer_than_the_limit_are_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT", "notes": "x" * 501}])] == ["too_long"]


def test_blank_notes_become_none():
    assert marking.parse_marks([{"enrolment_id": 1, "status": "ABSENT", "notes": "   "}], "public",
                               ROSTER)[0][0].notes is None


def test_a_member_not_on_the_register_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 9, "status": "ABSENT"}])] == ["not_in_cohort"]


def test_the_other_cohort_types_key_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT"}], "corporate")] == [
        "wrong_cohort_type"]


def test_id_works_for_either_kind():
    assert marking.parse_marks([{"id": 2, "status": "ABSENT"}], "corporate", ROSTER)[0][0].member_id == 2


def test_the_same_member_twice_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT"},
                                       {"enrolment_id": 1, "status": "PRESENT"}])] == ["duplicate"]


def test_every_bad_record_is_reported_with_its_index():
    errors = _errors([{"enrolment_id": 1, "status": "PRESENT"}, "junk", {"status": "ABSENT"},
                      {"enrolment_id": 2, "status": "LATE", "minutes_late": 900}])
    assert sorted({e.index for e in errors}) == [1, 2, 3]


def test_records_must_be_a_list():
    assert _errors({"enrolment_id": 1})[0].reason == "not_a_list"


def test_expected_version_must_be_a_whole_number():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT", "expected_version": "x"}])] == [
        "invalid_version"]


def test_mark_all_present_fills_only_unmarked():
    marks = [Mark(2, "ABSENT", None, None)]
    filled = marking.fill_unmarked(marks, roster=[1, 2, 3, 4], already_marked=[3])
    assert {m.member_id: m.status for m in filled} == {2: "ABSENT", 1: "PRESENT", 4: "PRESENT"}


@given(st.sets(st.integers(1, 50)), st.sets(st.integers(1, 50)))
def test_mark_all_present_never_touches_marked_members(roster, marked):
    filled = marking.fill_unmarked([], sorted(roster), marked)
    assert {m.member_id for m in filled} == roster - marked


def test_an_unchanged_mark_needs_no_write():
    assert not marking.needs_write(Mark(1, "LATE", 5, None), ("LATE", 5, None))
    assert marking.needs_write(Mark(1, "LATE", 6, None), ("LATE", 5, None))
    assert marking.needs_write(Mark(1, "LATE", 5, None), None)


def test_version_conflict_only_when_a_version_was_given_and_differs():
    assert not marking.version_conflict(Mark(1, "ABSENT", None, None), 3)
    assert marking.version_conflict(Mark(1, "ABSENT", None, None, expected_version=2), 3)
    assert not marking.version_conflict(Mark(1, "ABSENT", None, None, expected_version=0), None)


@pytest.mark.parametrize("reason", [None, "", "   ", 5, "x" * 301])
def test_lock_reason_is_required_and_bounded(reason):
    with pytest.raises(ValueError):
        marking.check_reason(reason)


def test_status_counts_include_unmarked():
    assert marking.status_counts(["PRESENT", None, "LATE", "PRESENT"]) == {
        "PRESENT": 2, "ABSENT": 0, "LATE": 1, "EXCUSED": 0, "UNMARKED": 1}


@pytest.mark.parametrize(("zone", "expected"), [
    ("Africa/Algiers", dt.datetime(2026, 3, 11, 23, 0, tzinfo=dt.UTC)),      # UTC+1
    ("Pacific/Auckland", dt.datetime(2026, 3, 11, 11, 0, tzinfo=dt.UTC)),    # UTC+13 (daylight saving)
    ("America/Los_Angeles", dt.datetime(2026, 3, 12, 7, 0, tzinfo=dt.UTC)),  # UTC-7 (daylight saving)
])
def test_auto_lock_is_end_of_local_day_plus_grace(zone, expected):
    day = dt.date(2026, 3, 10)
    ends_at = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    assert marking.auto_lock_at(day, ends_at, zone, 24) == expected


def test_a_session_ending_after_midnight_locks_after_its_end():
    ends = dt.datetime(2026, 3, 11, 3, 0, tzinfo=dt.UTC)  # 04:00 local on the next day
    assert marking.auto_lock_at(dt.date(2026, 3, 10), ends, "Africa/Algiers", 0) == ends


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_export_neutralizes_formula_cells(cell):
    assert export.neutralize(cell) == "'" + cell


def test_export_keeps_ordinary_cells():
    assert export.neutralize("Lina Haddad") == "Lina Haddad" and export.neutralize(None) == ""


class _Slow(dict):
    """A record parse_mark can't take its fast path on (it wants a plain dict): the long way, for comparison."""


_values = st.one_of(st.none(), st.integers(-2, 700),
                    st.sampled_from(["", " ", "5", "x", "late", " note ", "note", "²", "--5", "-3", "٣"]),
                    st.booleans(), st.sampled_from(marking.STATUSES), st.text(max_size=3), st.just("n" * 501))


@given(st.dictionaries(st.sampled_from(["enrolment_id", "trainee_id", "id", "status", "minutes_late", "notes",
                                        "expected_version"]), _values),
       st.sampled_from(["public", "corporate"]))
@settings(deadline=None, max_examples=300)
def test_the_fast_path_reads_every_record_as_the_long_way_does(raw, kind):
    members = {1, 2, 5, 600}
    fast = marking.parse_mark(0, raw, kind, members)
    slow = marking.parse_mark(0, _Slow(raw), kind, members)
    assert fast == slow
