"""Learner rows: the shared trainee checks plus ID number and date of birth, each row tallied once."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from core.imports import store
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


# ---------------------------------------------------------------- batches: the common case decided inline


def _random_learner_rows(rnd: random.Random, count: int) -> list[list[str]]:
    """Mostly good learner rows, with every kind of problem and repeats in the file (in COLUMNS order)."""
    def pick(good: str, *bad: str) -> str:
        return good if rnd.random() < 0.8 else rnd.choice(bad)

    rows = []
    for i in range(count):
        fields = [
            pick(rnd.choice(["Amel Bouzid", " Karim ", "Hélène Lefèvre"]), "", "   ", "N" * 201),
            pick(f"ID{i}", "", f"ID{i // 3}", "I" * 41, " ID7 "),
            pick(f"t{i}@acme.dz", f"T{i // 2}@Acme.dz", "", "bad@@x", "x@y.test", "é@x.dz", "k@a.dz "),
            pick(f"0{rnd.choice('567')}{rnd.randrange(10**8):08d}", "", "0555123456", "021 12 34 56",
                 f"+213 {rnd.choice('567')}{rnd.randrange(10):d}5 12 34 56", "0555١٢٣٤٥٦", "n/a"),
            pick(f"{rnd.randrange(1950, 2010)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}", "",
                 "2001-02-30", "2030-01-01", "2026-11-29", "2026-11-30", "30/04/2001", "2001-4-3", "٢٠٠١-٠٤-٣٠",
                 " 2001-04-30 ", "20010430", "0000-01-01", "yesterday", "30.04.2001", "30-04-2001", "31/04/2001",
                 "30/04-2001", "3/4/2001", "29/11/2026", "30/11/2026", "12/31/2001", "01/01/0000"),
        ]
        if rnd.random() < 0.05:
            fields = fields[:rnd.randrange(1, 5)] if rnd.random() < 0.5 else [*fields, "extra"]
        rows.append(fields)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("columns", [COLUMNS, ["phone", "date_of_birth", "full_name", "email", "id_number"],
                                     ["full_name", "id_number", "email"]])
@pytest.mark.parametrize("country", ["DZ", "ZA"])
def test_check_batch_gives_what_check_gives_row_by_row(seed, columns, country):
    rnd = random.Random(seed)
    order = [COLUMNS.index(c) for c in columns]
    rows = [(n, [fields[i] for i in order if i < len(fields)] + fields[5:]) for n, fields in
            enumerate(_random_learner_rows(rnd, 3000), start=1)]
    if country == "ZA":  # South African mobiles, nationally and internationally written, among the Algerian ones
        rows = [(n, [f"0{rnd.choice('678')}{rnd.randrange(10**8):08d}" if c == "phone" and rnd.random() < 0.5
                     else f"+27 {rnd.choice('678')}2 123 {rnd.randrange(10**4):04d}" if c == "phone"
                     and rnd.random() < 0.2 else v for c, v in zip([*columns, "extra"], fields, strict=False)])
                for n, fields in rows]
    one_by_one, batched = LearnerRowValidator(columns, TODAY, country), LearnerRowValidator(columns, TODAY, country)
    expected = [one_by_one.check(n, f) for n, f in rows]
    got, clean, start = [], 0, 0
    while start < len(rows):
        size = rnd.randint(1, 400)
        checked = batched.check_batch(rows[start:start + size])
        assert checked.clean == []
        clean += len(checked.clean_learners)
        got += checked.results()
        start += size
    assert got == expected
    for attribute in ("valid", "invalid", "by_reason", "possible_duplicates", "seen_ids"):
        assert getattr(batched, attribute) == getattr(one_by_one, attribute), attribute
    for attribute in ("seen_phones", "seen_emails"):
        assert getattr(batched.shared, attribute) == getattr(one_by_one.shared, attribute), attribute
    assert clean > (500 if len(columns) == 5 else -1)  # the inline path really is taken


def test_a_plain_learner_row_is_kept_as_a_tuple_and_written_like_its_result():
    validator = _validator()
    checked = validator.check_batch([(2, ["Ada New", "ID-1", "ADA@Example.com", "0550112233", "2001-04-30"]),
                                     (3, ["Bo", "", "", "", ""])])
    assert checked.clean_learners == [(2, "Ada New", "+213550112233", "ada@example.com", "ID-1", "2001-04-30"),
                                      (3, "Bo", "", "", "", "")]
    assert checked.results() == [_validator().check(2, ["Ada New", "ID-1", "ADA@Example.com", "0550112233",
                                                        "2001-04-30"]), _validator().check(3, ["Bo", "", "", "", ""])]
    lines = store._copy_payload(7, checked).splitlines()
    assert lines[0].split("\t") == ["7", "2", "t", "Ada New", "+213550112233", "ada@example.com", "", "", "",
                                    "ID-1", "2001-04-30", ""]
    assert lines[1].split("\t") == ["7", "3", "t", "Bo", "", "", "", "", "", "", "", ""]
