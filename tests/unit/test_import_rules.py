"""Pure import rules: decoding, headers, row checks, phone/email normalisation and their fast paths."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.imports import contacts, rules
from core.imports.rules import FileRejected, RowValidator, TraineeReader, sniff_file


def _sniff(data: bytes, chunk: int = 7) -> rules.FileProfile:
    return sniff_file(data[i:i + chunk] for i in range(0, len(data), chunk))


def _read(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    profile = _sniff(data, chunk=1 << 20)
    reader = TraineeReader(io.TextIOWrapper(io.BytesIO(data), encoding=profile.encoding, newline=""))
    return reader.columns, list(reader.rows())


def _check(csv_text: str, cohort_phones=(), cohort_emails=()) -> list[rules.RowResult]:
    columns, rows = _read(csv_text.encode())
    validator = RowValidator(columns, cohort_phones, cohort_emails)
    return [validator.check(n, f) for n, f in rows]


def _codes(result: rules.RowResult) -> list[str]:
    return [e["code"] for e in result.errors]


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(("raw", "expected"), [
    ("0555123456", ("+213555123456", None)),
    ("0661 23 45 67", ("+213661234567", None)),
    ("+213 770-12-34-56", ("+213770123456", None)),
    ("00213555123456", ("+213555123456", None)),
    ("021123456", (None, "phone_not_mobile")),
    ("+33612345678", (None, "phone_not_dz")),
    ("not a phone", (None, "phone_invalid")),
    ("0555", (None, "phone_invalid")),
])
def test_dz_mobile_normalization(raw, expected):
    assert contacts.normalize_dz_mobile(raw) == expected


def _random_phone(rnd: random.Random) -> str:
    digits = "".join(rnd.choice("0123456789") for _ in range(rnd.choice([7, 8, 9, 10])))
    text = rnd.choice(["", "0", "+213", "00213", "213", "+2130", "+33", "00", "+", "0 "]) + digits
    if rnd.random() < 0.4:
        sep, parts, i = rnd.choice([" ", "-", ".", "  ", "/"]), [], 0
        while i < len(text):
            step = rnd.randint(1, 4)
            parts.append(text[i:i + step])
            i += step
        text = sep.join(parts)
    return text


def test_phone_fast_path_agrees_with_phonenumbers_on_a_large_random_sample():
    rnd = random.Random(20261122)
    samples = [_random_phone(rnd) for _ in range(60_000)]
    # Plus every national mobile/landline prefix, so each metadata range is exercised.
    samples += [f"0{p:03d}{rnd.randrange(10**6):06d}" for p in range(100, 1000)]
    fast_hits = 0
    for raw in samples:
        fast = contacts.dz_mobile_fast(raw)
        if fast is not None:
            fast_hits += 1
            assert fast == contacts.normalize_dz_mobile_plain(raw), raw
    assert fast_hits > 8_000  # the fast path really is the common path


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+ -.", min_size=1, max_size=18))
def test_phone_fast_path_never_disagrees(raw):
    fast = contacts.dz_mobile_fast(raw)
    assert fast is None or fast == contacts.normalize_dz_mobile_plain(raw)


def test_email_fast_path_agrees_with_email_validator_on_a_large_random_sample():
    rnd = random.Random(7)
    locals_ = ["a", "john.doe", "x_y+z", "-a", "a-b", "Ab.Cd", "Élise", "a..b", ".a", "a.", "o'neil", "l" * 63,
               "l" * 64, "l" * 65 + ".x", "L" * 200]
    domains = ["example.com", "ex-ample.co.uk", "a.b", "x.test", "foo.local", "ab--c.com", "xn--abc.com",
               "1.2.3.4", "EXAMPLE.COM", "a.invalid", "ex.onion", "a.c0m", "d.co", "-x.com", "x-.com",
               "sub.localhost", "mail.dz", "gmail.com", "x" * 64 + ".com", "x.ARPA", "y.Test", "z.localhostx",
               ".".join(["d" * 60] * 3) + ".com"]
    hits = 0
    for _ in range(20_000):
        raw = rnd.choice(locals_) + rnd.choice(["", "1", "..", ".x", "_"]) + "@" + rnd.choice(domains)
        fast = contacts.email_fast(raw)
        if fast is not None:
            hits += 1
            assert (fast, None) == contacts.normalize_email_plain(raw), raw
    assert hits > 2_000


def test_email_is_normalized_to_lower_case():
    assert contacts.normalize_email("Amel.Bouzid@Example.COM") == ("amel.bouzid@example.com", None)


def test_invalid_email_carries_the_library_message():
    email, problem = contacts.normalize_email("amel@@example")
    assert email is None and problem


# ---------------------------------------------------------------- decoding


def test_utf8_with_bom_is_decoded_and_header_matched():
    data = "\ufefffull_name,phone\nAmel Bouzid,0555123456\n".encode()
    columns, rows = _read(data)
    assert columns == ["full_name", "phone"] and rows == [(1, ["Amel Bouzid", "0555123456"])]


def test_utf16_with_bom_is_decoded_correctly():
    data = "full_name;email\r\nHélène Saïdi;h@example.com\r\n".encode("utf-16")
    assert _sniff(data).encoding == "utf-16"
    assert _read(data)[1] == [(1, ["Hélène Saïdi", "h@example.com"])]


def test_windows_1252_as_excel_saves_it_is_decoded_without_mojibake():
    data = "full_name;job_title\r\nRené Lefèvre;Opérateur – nuit\r\n".encode("cp1252")
    assert _sniff(data).encoding == "cp1252"
    assert _read(data)[1] == [(1, ["René Lefèvre", "Opérateur – nuit"])]


def test_arabic_in_a_windows_codepage_is_refused_with_one_message():
    data = "full_name\nمحمد بن علي\n".encode("cp1256")
    with pytest.raises(FileRejected) as exc:
        _sniff(data)
    assert exc.value.code == "encoding" and "UTF-8" in exc.value.message


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"),
    (b"PK\x03\x04\x14\x00\x06\x00rest-of-xlsx", "not_csv"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old-xls", "not_csv"),
    (b"%PDF-1.7\n binary", "binary"),
    (b"full_name\n\x00\x01\x02\x03binary\x00", "binary"),
    (bytes(range(256)) * 10, "binary"),
])
def test_non_csv_files_are_rejected(data, code):
    with pytest.raises(FileRejected) as exc:
        _sniff(data)
    assert exc.value.code == code


def test_missing_full_name_column_names_what_was_found():
    with pytest.raises(FileRejected) as exc:
        _read(b"name,phone\nAmel,0555123456\n")
    assert exc.value.code == "missing_full_name" and "name, phone" in exc.value.message


def test_headers_are_trimmed_and_case_folded():
    assert _read(b" Full_Name ; PHONE ;E-mail\nA;0555123456;a@b.co\n")[0] == ["full_name", "phone", "e_mail"]


def test_semicolon_delimiter_and_crlf():
    columns, rows = _read(b"full_name;phone\r\nAmel;0555123456\r\nKarim;0661234567\r\n")
    assert columns == ["full_name", "phone"] and [r[1] for r in rows] == [["Amel", "0555123456"],
                                                                           ["Karim", "0661234567"]]


def test_quoted_fields_with_commas_and_newlines():
    rows = _read(b'full_name,department\n"Bouzid, Amel","Stores\nNight shift"\n')[1]
    assert rows == [(1, ["Bouzid, Amel", "Stores\nNight shift"])]


def test_blank_lines_are_skipped_but_counted():
    rows = _read(b"full_name\nAmel\n\nKarim\n")[1]
    assert rows == [(1, ["Amel"]), (3, ["Karim"])]


# ---------------------------------------------------------------- row checks


def test_valid_row_is_normalized():
    (row,) = _check("full_name,phone,email,job_title\n Amel Bouzid ,0555 12 34 56,Amel@Example.com,Driver\n")
    assert row.ok and (row.full_name, row.phone_e164, row.email, row.job_title) == (
        "Amel Bouzid", "+213555123456", "amel@example.com", "Driver")


def test_too_few_or_too_many_fields_is_a_row_error():
    rows = _check("full_name,phone\nAmel\nKarim,0555123456,extra\n")
    assert [_codes(r) for r in rows] == [["wrong_field_count"], ["wrong_field_count"]]


def test_blank_full_name_is_a_row_error():
    assert _codes(_check("full_name,phone\n  ,0555123456\n")[0]) == ["full_name_missing"]


@pytest.mark.parametrize(("phone", "code"), [
    ("021 12 34 56", "phone_not_mobile"), ("+33 6 12 34 56 78", "phone_not_dz"), ("12ab", "phone_invalid"),
])
def test_bad_phones_are_row_errors_with_reason(phone, code):
    assert _codes(_check(f"full_name,phone\nAmel,{phone}\n")[0]) == [code]


def test_duplicate_phone_in_file_names_the_first_row():
    rows = _check("full_name,phone\nAmel,0555123456\nKarim,+213 555 12 34 56\n")
    assert rows[0].ok and _codes(rows[1]) == ["duplicate_phone_in_file"]
    assert "row 1" in rows[1].errors[0]["message"]


def test_duplicate_email_is_case_insensitive():
    rows = _check("full_name,email\nAmel,a@example.com\nKarim,A@EXAMPLE.com\n")
    assert _codes(rows[1]) == ["duplicate_email_in_file"] and "row 1" in rows[1].errors[0]["message"]


def test_duplicates_against_the_cohort_are_row_errors():
    rows = _check("full_name,phone,email\nAmel,0555123456,x@example.com\n",
                  cohort_phones=["+213555123456"], cohort_emails=["X@example.com"])
    assert _codes(rows[0]) == ["duplicate_phone_in_cohort", "duplicate_email_in_cohort"]


def test_counts_by_reason():
    columns, rows = _read(b"full_name,phone\nA,0555123456\n,021123456\nC,0555123456\n")
    validator = RowValidator(columns)
    for n, f in rows:
        validator.check(n, f)
    assert (validator.valid, validator.invalid) == (1, 2)
    assert validator.by_reason == {"full_name_missing": 1, "phone_not_mobile": 1, "duplicate_phone_in_file": 1}


@pytest.mark.parametrize(("value", "expected"), [
    ("=SUM(A1)", "'=SUM(A1)"), ("+213555", "'+213555"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("Amel", "Amel"), (None, ""),
])
def test_formulas_are_neutralized(value, expected):
    assert rules.neutralize_formula(value) == expected


def test_damaged_utf8_is_refused_rather_than_read_as_windows_1252():
    data = "full_name\nHélène\n".encode() + b"Ren\xe9\n"  # UTF-8 with one stray Latin-1 byte
    with pytest.raises(FileRejected) as exc:
        _sniff(data)
    assert exc.value.code == "encoding"


def test_compiled_dz_type_matches_phonenumbers_for_every_prefix():
    import phonenumbers

    rnd = random.Random(3)
    for prefix in range(1000):
        for length in (8, 9):
            nsn = f"{prefix:03d}"[: length] + "".join(rnd.choice("0123456789") for _ in range(length - 3))
            number = phonenumbers.PhoneNumber(country_code=213, national_number=int(nsn))
            if nsn[0] != "0":
                assert contacts.dz_number_type(nsn) == phonenumbers.number_type(number), nsn


def test_long_values_are_judged_without_the_cache():
    contacts.normalize_dz_mobile.cache_clear()
    padded = "0 5 5 5 1 2 3 4 5 6" + " " * 60
    (row,) = _check(f"full_name,phone,email\nAmel,{padded.strip()}  ,{'x' * 300}@example.com\n")
    assert row.phone_e164 == "+213555123456" and [e["code"] for e in row.errors] == ["email_invalid"]
    long_phone = "+213 555 " + "-" * 70 + " 12"
    assert RowValidator(["full_name", "phone"]).check(1, ["A", long_phone]).errors[0]["code"] == "phone_invalid"
