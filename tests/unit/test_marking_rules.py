"""Pure marking rules: statuses, minutes late, notes, duplicates, mark-all-present, lock times, CSV cells."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.attendance import export, marking
from core.attendance.commands import MarkRegister
from core.attendance.marking import Mark

ROSTER = {1: True, 2: True, 3: True}


def _parse(records, kind="public", members=ROSTER):
    """The records as the API takes them: the command judges their fields, the register the rest."""
    return marking.parse_marks(MarkRegister.model_validate({"session_id": 1, "records": records}).records, kind,
                               members)


def _errors(records, kind="public", members=ROSTER):
    return _parse(records, kind, members)[1]


def _malformed(records):
    """The fields the command refuses as malformed (the whole request: a 422 naming them)."""
    with pytest.raises(ValidationError) as refused:
        MarkRegister.model_validate({"session_id": 1, "records": records})
    return [".".join(map(str, e["loc"])) for e in refused.value.errors()]


def test_a_valid_record_is_normalized():
    marks, errors = _parse([{"enrolment_id": 1, "status": " late ", "minutes_late": "7", "notes": "  bus  "}])
    assert errors == [] and marks == [Mark(1, "LATE", 7, "bus")]


def test_unknown_status_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "HERE"}])] == ["invalid_status"]


def test_minutes_late_only_with_late():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "PRESENT", "minutes_late": 3}])] == [
        "only_for_late"]


@pytest.mark.parametrize("minutes", [-1, 601, 2**31 - 1])
def test_minutes_late_must_be_0_to_600(minutes):
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "LATE", "minutes_late": minutes}])] == [
        "out_of_range"]


@pytest.mark.parametrize("minutes", ["ten", 2.5, 2**31])
def test_minutes_late_that_are_no_whole_number_make_the_request_malformed(minutes):
    assert _malformed([{"enrolment_id": 1, "status": "LATE", "minutes_late": minutes}]) == ["records.0.minutes_late"]


@given(st.integers(min_value=0, max_value=600))
def test_any_minutes_in_range_are_accepted_for_late(minutes):
    marks, errors = _parse([{"enrolment_id": 1, "status": "LATE", "minutes_late": minutes}])
    assert errors == [] and marks[0].minutes_late == minutes


def test_notes_longer_than_the_limit_are_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT", "notes": "x" * 501}])] == ["too_long"]


def test_blank_notes_become_none():
    assert _parse([{"enrolment_id": 1, "status": "ABSENT", "notes": "   "}])[0][0].notes is None


def test_a_member_not_on_the_register_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 9, "status": "ABSENT"}])] == ["not_in_cohort"]


def test_the_other_cohort_types_key_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT"}], "corporate")] == [
        "wrong_cohort_type"]


def test_id_works_for_either_kind():
    assert _parse([{"id": 2, "status": "ABSENT"}], "corporate")[0][0].member_id == 2


def test_the_same_member_twice_is_refused():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT"},
                                       {"enrolment_id": 1, "status": "PRESENT"}])] == ["duplicate"]


def test_every_bad_record_is_reported_with_its_index():
    errors = _errors([{"enrolment_id": 1, "status": "PRESENT"}, {"enrolment_id": 9, "status": "here"},
                      {"status": "ABSENT"}, {"enrolment_id": 2, "status": "LATE", "minutes_late": 900}])
    assert sorted({e.index for e in errors}) == [1, 2, 3]


def test_a_record_with_a_bad_field_is_still_checked_against_the_register():
    assert [e.reason for e in _errors([{"enrolment_id": 9, "status": "here", "notes": "x" * 501}])] == [
        "not_in_cohort", "invalid_status", "too_long"]


def test_records_must_be_a_list_of_objects():
    assert _malformed({"enrolment_id": 1}) == ["records"]
    assert _malformed([{"enrolment_id": 1, "status": "ABSENT"}, "junk"]) == ["records.1"]


def test_a_malformed_record_refuses_the_request_naming_only_malformed_fields():
    assert _malformed([{"enrolment_id": 1, "status": 5}, {"enrolment_id": 2, "status": "HERE"}]) == [
        "records.0.status"]


def test_expected_version_must_be_a_whole_number_from_0():
    assert [e.reason for e in _errors([{"enrolment_id": 1, "status": "ABSENT", "expected_version": -1}])] == [
        "invalid_version"]
    assert _malformed([{"enrolment_id": 1, "status": "ABSENT", "expected_version": "x"}]) == [
        "records.0.expected_version"]


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


_values = st.one_of(st.none(), st.integers(-2, 700),
                    st.sampled_from(["", " ", "5", "x", "late", " note ", "note", "²", "--5", "-3", "٣"]),
                    st.booleans(), st.sampled_from(marking.STATUSES), st.text(max_size=3), st.just("n" * 501))


@given(st.lists(st.dictionaries(st.sampled_from(["enrolment_id", "trainee_id", "id", "status", "minutes_late",
                                                 "notes", "expected_version"]), _values), min_size=1, max_size=3),
       st.sampled_from(["public", "corporate"]))
@settings(deadline=None, max_examples=300)
def test_the_fast_path_reads_every_record_as_the_long_way_does(raws, kind):
    try:
        records = MarkRegister.model_validate({"session_id": 1, "records": raws}).records
    except ValidationError:
        return  # malformed: the request is refused before any record is read
    members = {1, 2, 5, 600}
    for index, record in enumerate(records):
        fast = marking._plain_mark(record, marking.KEY_FIELDS[kind], members)
        slow = marking.judge_record(index, record, kind, members)
        assert marking.parse_mark(index, record, kind, members) == slow
        if fast is not None:
            assert slow == (fast, [])
