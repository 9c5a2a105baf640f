"""Phones follow the institution's country (issue 27 point 1): national form is a mobile of that country,
international form a valid mobile of its own country, letters refused, messages with the country's example."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.imports import contacts, rules
from core.institutions.countries import country_for_zone, normalize_country
from core.institutions.phones import read_mobile
from tests.phone_text import random_phone


@pytest.mark.parametrize(("raw", "country", "expected"), [
    ("082 555 1234", "ZA", "+27825551234"),
    ("0825551234", "ZA", "+27825551234"),
    ("+27 82 555 1234", "ZA", "+27825551234"),
    ("0550 12 34 56", "DZ", "+213550123456"),
    ("0550123456", "DZ", "+213550123456"),
    ("+213 550 12 34 56", "ZA", "+213550123456"),   # another country's mobile, written internationally
    ("+27825551234", "DZ", "+27825551234"),
    ("0044 7400 123456", "ZA", "+447400123456"),
])
def test_mobiles_of_both_countries_and_international_ones_are_read(raw, country, expected):
    assert contacts.normalize_mobile(raw, country) == (expected, None)


@pytest.mark.parametrize(("raw", "country", "code"), [
    ("011 555 1234", "ZA", "phone_not_mobile"),        # a Johannesburg landline
    ("021 12 34 56", "DZ", "phone_not_mobile"),        # an Algiers landline
    ("0550 12 34 56", "ZA", "phone_invalid"),          # an Algerian number written nationally in ZA
    ("+44 20 7946 0958", "ZA", "phone_not_mobile"),    # a London landline
    ("0825", "ZA", "phone_invalid"),
])
def test_numbers_that_are_not_mobiles_are_refused_with_a_reason(raw, country, code):
    assert contacts.normalize_mobile(raw, country) == (None, code)


@pytest.mark.parametrize("raw", ["0800 FLOWERS", "082 555 ABCD", "0550 12 34 5six", "+27 82 555 12٣a",
                                 "tel 0825551234"])
@pytest.mark.parametrize("country", ["ZA", "DZ"])
def test_a_phone_holding_letters_is_refused_never_mapped_through_a_keypad(raw, country):
    assert contacts.normalize_mobile(raw, country) == (None, "phone_letters")
    assert contacts.normalize_dz_mobile(raw) == (None, "phone_letters")


def test_the_refusal_names_the_expected_form_with_an_example_of_the_country():
    with pytest.raises(ValidationError) as za:
        read_mobile("011 555 1234", "ZA")
    assert "071 123 4567" in za.value.message and za.value.details[0]["field"] == "phone"
    with pytest.raises(ValidationError) as dz:
        read_mobile("0800 FLOWERS", "DZ", field="contact_phone")
    assert "0551 23 45 67" in dz.value.message and dz.value.code == "phone_letters"
    assert dz.value.details[0]["field"] == "contact_phone"


def test_country_is_derived_from_the_time_zone():
    assert (country_for_zone("Africa/Johannesburg"), country_for_zone("Africa/Algiers")) == ("ZA", "DZ")
    assert country_for_zone("UTC") is None


@pytest.mark.parametrize("bad", ["ZZ", "South Africa", "Z", "12"])
def test_a_country_is_an_iso_code(bad):
    with pytest.raises(ValueError):
        normalize_country(bad)


def test_corporate_trainee_files_keep_the_algerian_rule_for_algerian_institutions():
    dz = rules.RowValidator(["full_name", "phone"], country="DZ")
    assert [e["code"] for e in dz.check(1, ["A", "+27825551234"]).errors] == ["phone_not_dz"]
    za = rules.RowValidator(["full_name", "phone"], country="ZA")
    assert za.check(1, ["A", "082 555 1234"]).phone_e164 == "+27825551234"
    problem = za.check(2, ["B", "011 555 1234"]).errors[0]
    assert problem["code"] == "phone_not_mobile" and "071 123 4567" in problem["message"]


def _random_za_phone(rnd: random.Random) -> str:
    digits = "".join(rnd.choice("0123456789") for _ in range(rnd.choice([8, 9, 10])))
    text = rnd.choice(["", "0", "+27", "0027", "27", "+270", "+213", "00", "0 "]) + digits
    if rnd.random() < 0.4:
        text = " ".join(text[i:i + 3] for i in range(0, len(text), 3))
    return text


@pytest.mark.parametrize("country", ["ZA", "DZ"])
def test_batch_and_row_checks_agree_for_either_country(country):
    """check_batch (the fast path of whole files) gives every row exactly check()'s verdict."""
    rnd = random.Random(27)
    rows = [(n, [f"Name {n}", _random_za_phone(rnd)]) for n in range(1, 3001)]
    batch = rules.RowValidator(["full_name", "phone"], country=country, algerian_rule=False)
    one_by_one = rules.RowValidator(["full_name", "phone"], country=country, algerian_rule=False)
    fast = {r.row: (r.ok, r.phone_e164, [e["code"] for e in r.errors]) for r in batch.check_batch(rows).results()}
    slow = {n: (r.ok, r.phone_e164, [e["code"] for e in r.errors]) for n, f in rows
            for r in [one_by_one.check(n, f)]}
    assert fast == slow and sum(ok for ok, _p, _c in fast.values()) > 100


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+ -.", min_size=1, max_size=18))
def test_algerian_mobiles_keep_the_fast_path_answer_under_the_country_rule(raw):
    fast = contacts.dz_mobile_fast(raw)
    if fast is not None and fast[0] is not None:
        assert contacts.normalize_mobile(raw, "DZ") == fast


def _random_phone_of(rnd: random.Random, cc: str) -> str:
    return random_phone(rnd, ["", "0", f"+{cc}", f"00{cc}", cc, f"+{cc}0", "+213", "00", "+", "0 "],
                        [5, 7, 8, 9, 10, 11])


@pytest.mark.parametrize(("country", "cc", "least"), [("ZA", "27", 1000), ("FR", "33", 300), ("DE", "49", 30),
                                                     ("EG", "20", 30)])
def test_any_countrys_fast_path_agrees_with_phonenumbers_on_a_large_random_sample(country, cc, least):
    rnd = random.Random(2027)
    samples = [_random_phone_of(rnd, cc) for _ in range(30_000)]
    samples += [f"0{p:03d}{rnd.randrange(10**6):06d}" for p in range(100, 1000)]  # every national prefix range
    hits = 0
    for raw in samples:
        fast = contacts.mobile_plain(raw, country)
        if fast is not None:
            hits += 1
            assert (fast, None) == contacts.normalize_mobile_plain(raw, country), raw
    assert hits > least  # the fast path really is taken


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+ -.", min_size=1, max_size=18))
def test_the_south_african_fast_path_never_disagrees(raw):
    fast = contacts.mobile_plain(raw, "ZA")
    assert fast is None or (fast, None) == contacts.normalize_mobile_plain(raw, "ZA")


def test_a_shared_calling_code_has_no_shortcut():
    assert contacts.mobile_plain("07400 123456", "GB") is None  # +44 is also Guernsey's, Jersey's, Man's
    assert contacts.normalize_mobile("07400 123456", "GB") == ("+447400123456", None)
