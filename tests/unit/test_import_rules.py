"""Pure import rules: decoding, headers, row checks, phone/email normalisation and their fast paths."""

from __future__ import annotations

import csv
import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.imports import contacts, reading, rules
from core.imports.reading import FileRejected, TraineeReader, sniff_file
from core.imports.rules import RowValidator
from tests.phone_text import random_phone


def _sniff(data: bytes, chunk: int = 7) -> reading.FileProfile:
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
    ("not a phone", (None, "phone_letters")),  # letters: never read through a keypad
    ("0555", (None, "phone_invalid")),
])
def test_dz_mobile_normalization(raw, expected):
    assert contacts.normalize_dz_mobile(raw) == expected


def _random_phone(rnd: random.Random) -> str:
    return random_phone(rnd, ["", "0", "+213", "00213", "213", "+2130", "+33", "00", "+", "0 "], [7, 8, 9, 10])


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


@pytest.mark.parametrize("raw", ["0555١٢٣٤٥٦", "+213 555 ١٢ ٣٤ ٥٦", "٠٥٥٥١٢٣٤٥٦", "０５５５１２３４５６"])
def test_phones_in_other_digits_get_the_library_answer(raw):
    # Arabic-Indic or full-width digits: phonenumbers reads them as ASCII; the fast path leaves them to it.
    assert contacts.dz_mobile_fast(raw) is None
    assert contacts.normalize_dz_mobile(raw) == ("+213555123456", None)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aZ09._+-@xX", min_size=1, max_size=12),
       st.sampled_from(["", "@acme.dz", "@a.test", "@b.LOCAL", "@x--y.com", "@mail.example.com", "@q.onion.com"]))
def test_email_fast_path_never_disagrees(raw, domain):
    contacts._plain_domain.cache_clear()
    fast = contacts.email_fast(raw + domain)
    assert fast is None or (fast, None) == contacts.normalize_email_plain(raw + domain)


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


def _reference_rows(body: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """What the csv module alone makes of the lines after the header, numbered as TraineeReader numbers them."""
    records = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=False)
    return [(number, fields) for number, fields in enumerate(records, start=1)
            if fields and (len(fields) > 1 or fields[0].strip())]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab ,;"\r\né\t', max_size=120), st.sampled_from([1, 5, 40, 1 << 16]))
def test_rows_are_what_the_csv_module_reads_whatever_the_chunking(body, chunk):
    # Quote-free chunks are split on the delimiter, the rest read by the csv module: the same rows either way.
    original = reading._READ_CHARS
    reading._READ_CHARS = chunk
    try:
        reader = TraineeReader(io.StringIO("full_name,x\n" + body, newline=""))
        assert list(reader.rows()) == _reference_rows(body)
    finally:
        reading._READ_CHARS = original


def test_rows_switch_to_the_csv_module_at_the_first_quote(monkeypatch):
    monkeypatch.setattr(reading, "_READ_CHARS", 8)
    body = "Amel,1\r\n\r\nKarim;2\n\"Bouzid,\nAmel\",3\nLina,4\rWalid,\"5\"\n"
    reader = TraineeReader(io.StringIO("full_name,x\n" + body, newline=""))
    assert list(reader.rows()) == _reference_rows(body) == [
        (1, ["Amel", "1"]), (3, ["Karim;2"]), (4, ["Bouzid,\nAmel", "3"]), (5, ["Lina", "4"]), (6, ["Walid", "5"])]


def test_a_field_over_the_csv_limit_is_still_refused():
    huge = "x" * (csv.field_size_limit() + 1)
    reader = TraineeReader(io.StringIO(f"full_name\nAmel\n{huge}\n", newline=""))
    with pytest.raises(FileRejected) as exc:
        list(reader.rows())
    assert exc.value.code == "not_csv"


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
    ("021 12 34 56", "phone_not_mobile"), ("+33 6 12 34 56 78", "phone_not_dz"), ("12ab", "phone_letters"),
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


# ---------------------------------------------------------------- batches: the common case decided inline


def _random_rows(rnd: random.Random, count: int) -> list[list[str]]:
    """Mostly good rows, with every kind of problem, repeats in the file and values of the cohort mixed in."""
    def pick(good: str, *bad: str) -> str:
        return good if rnd.random() < 0.8 else rnd.choice(bad)

    rows = []
    for i in range(count):
        fields = [
            pick(rnd.choice(["Amel Bouzid", " Karim ", "Hélène Lefèvre"]), "", "   ", "Lina", "N" * 201, "Admin Demo"),
            pick(f"0{rnd.choice('567')}{rnd.randrange(10**8):08d}", _random_phone(rnd), "", "0555123456",
                 f"+213 {rnd.choice('567')}{rnd.randrange(10):d}5 12 34 56", "0555١٢٣٤٥٦", "+213661000000"),
            pick(f"t{i}@acme.dz", f"T{i // 2}@Acme.dz", "a@acme.dz", "bad@@x", "x@y.test", "é@x.dz", "", "k@a.dz "),
            pick("Driver", "", "J" * 121),
            pick(f"E{i}", f"E{i // 3}", "", "C" * 61, "E12"),
            pick("Stores", "", "D" * 121),
        ]
        if rnd.random() < 0.05:
            fields = fields[:rnd.randrange(1, 6)] if rnd.random() < 0.5 else [*fields, "extra"]
        rows.append(fields)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("columns", [list(rules.COLUMNS), ["email", "department", "full_name", "phone",
                                                           "employee_code", "job_title"], ["full_name", "phone"]])
def test_check_batch_gives_what_check_gives_row_by_row(seed, columns):
    rnd = random.Random(seed)
    order = [rules.COLUMNS.index(c) for c in columns]
    rows = [(n, [fields[i] for i in order if i < len(fields)] + fields[6:]) for n, fields in
            enumerate(_random_rows(rnd, 3000), start=1)]
    cohort = {"cohort_phones": ["+213555123456", "+213661000000"], "cohort_emails": ["T7@acme.dz"],
              "cohort_codes": ["E12"], "cohort_names": ["Lina", "admin demo"]}
    one_by_one, batched = RowValidator(columns, **cohort), RowValidator(columns, **cohort)
    expected = [one_by_one.check(n, f) for n, f in rows]
    got, clean, start = [], 0, 0
    while start < len(rows):
        size = rnd.randint(1, 400)
        checked = batched.check_batch(rows[start:start + size])
        clean += len(checked.clean)
        got += checked.results()
        start += size
    assert got == expected
    for attribute in ("valid", "invalid", "by_reason", "possible_duplicates", "seen_phones", "seen_emails",
                      "seen_codes"):
        assert getattr(batched, attribute) == getattr(one_by_one, attribute), attribute
    assert clean > (500 if len(columns) == 6 else -1)  # the inline path really is taken


def test_a_row_with_a_known_name_and_no_contact_keeps_its_warning_in_a_batch():
    validator = RowValidator(["full_name", "phone", "email", "job_title", "employee_code", "department"],
                             cohort_names=["Amel Bouzid"])
    checked = validator.check_batch([(1, [" amel bouzid ", "", "", "Driver", "", ""]),
                                     (2, ["Karim", "0555123456", "", "", "", ""])])
    assert [r.row for r in checked.others] == [1] and checked.others[0].warnings[0]["code"] == "possible_duplicate"
    assert checked.clean == [(2, "Karim", "+213555123456", "", "", "", "")]
    assert validator.possible_duplicates == 1
