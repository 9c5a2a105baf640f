"""Learner rows: the shared trainee checks plus ID number and date of birth, each row tallied once."""

from __future__ import annotations

import datetime as dt

from core.imports.learners import LearnerRowValidator, parse_birth_date

COLUMNS = ["full_name", "id_number", "email", "phone", "date_of_birth"]
TODAY = dt.date(2026, 11, 29)


def _validator() -> LearnerRowValidator:
    return LearnerRowValidator(COLUMNS, TODAY)


def test_a_good_row_is_valid_with_every_value_normalized():
    result = _validator().check(1, ["Ada New", "ID-1", "ADA@Example.com", "0550 11 22 33", "30/04/2001"])
    assert (result.ok, result.id_number, result.email, result.phone_e164, result.date_of_birth) == (
        True, "ID-1", "ada@example.com", "+213550112233", dt.date(2001, 4, 30))


def test_a_repeated_id_number_makes_an_otherwise_good_row_invalid_and_is_tallied_once():
    v = _validator()
    v.check(1, ["Ada", "ID-1", "", "", ""])
    second = v.check(2, ["Bo", "ID-1", "", "", ""])
    assert not second.ok and [e["code"] for e in second.errors] == ["duplicate_id_number_in_file"]
    assert (v.valid, v.invalid, v.by_reason) == (1, 1, {"duplicate_id_number_in_file": 1})


def test_shared_and_learner_errors_on_one_row_count_the_row_once_and_each_reason():
    v = _validator()
    result = v.check(1, ["", "", "", "021 12 34 56", "31/02/2001"])
    assert {e["code"] for e in result.errors} == {"full_name_missing", "phone_not_mobile", "date_of_birth_invalid"}
    assert (v.valid, v.invalid) == (0, 1) and sum(v.by_reason.values()) == 3


def test_a_short_row_is_a_field_count_error_not_a_crash():
    result = _validator().check(1, ["Only a name"])
    assert not result.ok and [e["code"] for e in result.errors] == ["wrong_field_count"]


def test_birth_dates_in_the_future_are_refused():
    assert parse_birth_date("2030-01-01", TODAY) == (None, "date_of_birth_future")
