"""Pure rules for trainee rows: the checks, their reasons and messages (decoding and reading the file are in
core.imports.reading; phones and emails are normalised by core.imports.contacts).

Nothing here touches the database, Flask or Celery. The service streams a stored file through
`reading.sniff_file` (first pass: encoding, size) and `reading.TraineeReader` + `RowValidator` (second pass: rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter, itemgetter
from typing import Any

from core.i18n import N_

from .contacts import (
    PhoneResult,
    dz_mobile_fast,
    dz_mobile_plain,
    email_fast,
    mobile_example,
    mobile_plain,
    normalize_dz_mobile,
    normalize_dz_mobile_plain,
    normalize_email,
    normalize_email_plain,
    normalize_mobile,
)

COLUMNS = ("full_name", "phone", "email", "job_title", "employee_code", "department")
MAX_LENGTHS = {"full_name": 200, "job_title": 120, "employee_code": 60, "department": 120}

# Reason code → human message (a row error's `message` may add detail, e.g. the first row's number).
REASONS: dict[str, str] = {
    "full_name_missing": N_("Full name is missing."),
    "too_long": N_("The value is too long."),
    "wrong_field_count": N_("The row does not have as many fields as the header."),
    "phone_invalid": N_("Not a valid phone number."),
    "phone_not_dz": N_("Not an Algerian number: only Algerian mobile numbers are accepted."),
    "phone_not_mobile": N_("Not a mobile number (landline or special number): only Algerian mobiles are accepted."),
    "phone_letters": N_("A phone number holds digits, not letters."),
    "email_invalid": N_("Not a valid email address."),
    "duplicate_phone_in_file": N_("Duplicate phone number in this file."),
    "duplicate_email_in_file": N_("Duplicate email in this file."),
    "duplicate_employee_code_in_file": N_("Duplicate employee code in this file."),
    "duplicate_phone_in_cohort": N_("A trainee with this phone number is already in the cohort."),
    "duplicate_email_in_cohort": N_("A trainee with this email address is already in the cohort."),
    "duplicate_employee_code_in_cohort": N_("A trainee with this employee code is already in the cohort."),
}
# Learner files (core.imports.learners) add their own checks; one table serves screens and reports.
LEARNER_REASONS: dict[str, str] = {
    "id_number_too_long": N_("At most 40 characters."),
    "duplicate_id_number_in_file": N_("The same ID number appears earlier in the file."),
    "date_of_birth_invalid": N_("Use a date like 2001-04-30 (or 30/04/2001)."),
    "date_of_birth_future": N_("The date of birth is in the future."),
}
REASONS.update(LEARNER_REASONS)

# Warnings: the row is valid but is left out of the commit unless the admin includes it.
WARNINGS: dict[str, str] = {
    "possible_duplicate": N_("Possible duplicate: a trainee with this name is already in the cohort, and this row "
                             "has no phone, email or employee code to tell them apart."),
}

# Messages with a detail: the msgid is kept with the row's values (`params`), so screens translate it.
WRONG_FIELD_COUNT = N_("This row has %(count)s fields; the header has %(width)s.")
AT_MOST = N_("At most %(limit)s characters.")
FIRST_ON_ROW = {
    "duplicate_phone_in_file": N_("Duplicate phone number in this file (first on row %(first)s)."),
    "duplicate_email_in_file": N_("Duplicate email in this file (first on row %(first)s)."),
    "duplicate_employee_code_in_file": N_("Duplicate employee code in this file (first on row %(first)s)."),
}


# A refused phone, in words naming the form expected with an example of the institution's country
# (`example`: national form, `international`: E.164), so the reader can put it right.
PHONE_EXPECTED = {
    "phone_invalid": N_("Not a valid mobile number: write it like %(example)s, or another country's mobile in "
                        "international form (+ and its country code)."),
    "phone_not_mobile": N_("Not a mobile number (landline or special number): write a mobile like %(example)s "
                           "or %(international)s."),
    "phone_letters": N_("A phone number holds digits, not letters: write a mobile like %(example)s or "
                        "%(international)s."),
    "phone_not_dz": N_("Not an Algerian number: only Algerian mobile numbers are accepted, like %(example)s or "
                       "%(international)s."),
}


@lru_cache(maxsize=256)
def _phone_words(code: str, country: str) -> tuple[str, str | None, dict[str, str] | None]:
    """(English message, msgid, params) of a refused phone in `country`: worked out once per pair, as a file
    may refuse thousands of phones."""
    example, international = mobile_example(country)
    if code not in PHONE_EXPECTED or not example:
        return reason_sentence(code), None, None
    params = {"example": example, "international": international}
    return PHONE_EXPECTED[code] % params, PHONE_EXPECTED[code], params


def phone_problem(column: str, value: str | None, code: str, country: str) -> dict[str, Any]:
    """A refused phone as a row problem whose message names the expected form for `country`."""
    message, template, params = _phone_words(code, country)
    found = {"column": column, "value": value, "code": code, "message": message}
    if template:
        found.update(template=template, params=dict(params or {}))
    return found


def reason_sentence(code: str) -> str:
    """What people read for a reason code (never the code itself): a msgid, to translate where shown."""
    return REASONS.get(code) or WARNINGS.get(code) or N_("This row could not be used.")


def problem_text(problem: dict[str, Any], gettext: Callable[[str], str]) -> str:
    """A stored row problem in the reader's language: its msgid with its values when it kept them, else its
    reason; English readers see the stored message (which may carry a library's own detail)."""
    template, params = problem.get("template"), problem.get("params") or {}
    if template:
        return gettext(template) % params
    return gettext(reason_sentence(str(problem.get("code", ""))))


def name_key(name: str) -> str:
    """How names are compared for possible duplicates: trimmed, case-folded (SQL side: lower(trim(name)))."""
    return name.strip().lower()


# ---------------------------------------------------------------- row checks


@dataclass(slots=True)
class RowResult:
    row: int
    ok: bool
    full_name: str | None = None
    phone_e164: str | None = None
    email: str | None = None
    job_title: str | None = None
    employee_code: str | None = None
    department: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] | None = None
    id_number: str | None = None  # learner imports
    date_of_birth: dt.date | None = None  # learner imports

    def stored_problems(self) -> dict[str, Any] | None:
        """The `errors` JSON of a row result: {"errors": [...]} and, for a valid row, {"warnings": [...]}."""
        if self.errors:
            return {"errors": self.errors}
        return {"errors": [], "warnings": self.warnings} if self.warnings else None


# A row that passed every check, with the values its RowResult would hold and "" where that holds None:
# (row, full_name, phone_e164, email, job_title, employee_code, department).
CleanRow = tuple[int, str, str, str, str, str, str]


# A learner row (core.imports.learners) that passed every check, "" where its RowResult holds None:
# (row, full_name, phone_e164, email, id_number, date_of_birth as YYYY-MM-DD).
LearnerCleanRow = tuple[int, str, str, str, str, str]


@dataclass(slots=True)
class CheckedRows:
    """A batch of checked rows: the plainly valid ones as CleanRow tuples (most of a file: cheap to keep and to
    write; a learner file's as LearnerCleanRow tuples), every other one as its RowResult."""

    clean: list[CleanRow]
    others: list[RowResult]
    clean_learners: list[LearnerCleanRow] = field(default_factory=list)

    def results(self) -> list[RowResult]:
        """Every row as the RowResult `check` gives it, in file order."""
        made = [RowResult(row, True, name, phone or None, email or None, job_title or None, employee_code or None,
                          department or None)
                for row, name, phone, email, job_title, employee_code, department in self.clean]
        made += [RowResult(row, True, name, phone or None, email or None, id_number=id_number or None,
                           date_of_birth=dt.date.fromisoformat(born) if born else None)
                 for row, name, phone, email, id_number, born in self.clean_learners]
        return sorted(made + self.others, key=attrgetter("row"))


def row_problem(column: str, value: str | None, code: str, template: str | None = None, **params: Any
                ) -> dict[str, Any]:
    """A row problem: its reason code, its English message, and (for a message with a detail) the msgid and
    values that screens translate it from."""
    found = {"column": column, "value": value, "code": code,
             "message": template % params if template else reason_sentence(code)}
    if template:
        found.update(template=template, params=params)
    return found


_error = row_problem


class RowValidator:
    """Checks rows one by one, remembering phones, emails and employee codes seen so far (in the file and the
    cohort), and the cohort's names (a row with nothing but a known name is a possible duplicate)."""

    def __init__(self, columns: list[str], cohort_phones: Iterable[str] = (), cohort_emails: Iterable[str] = (),
                 cohort_codes: Iterable[str] = (), cohort_names: Iterable[str] = (), country: str = "DZ",
                 algerian_rule: bool = True):
        """`country`: phones written nationally are its mobiles. `algerian_rule` (corporate trainee files of an
        Algerian institution): only Algerian mobiles, by the Algerian fast path; otherwise a mobile written
        internationally is accepted when valid in its own country."""
        self.width = len(columns)
        self.country = country
        self.algerian = country == "DZ" and algerian_rule
        positions: dict[str, int] = {}
        for index, name in enumerate(columns):
            positions.setdefault(name, index)
        self.positions = tuple(positions.get(name, -1) for name in COLUMNS)  # in COLUMNS order
        # The usual file names every column: fetch all six in one C call.
        self._all = itemgetter(*self.positions) if min(self.positions) >= 0 else None
        self.cohort_phones = set(cohort_phones)
        self.cohort_emails = set(map(str.lower, cohort_emails))
        self.seen_phones: dict[str, int] = {}
        self.seen_emails: dict[str, int] = {}
        self.cohort_codes = set(cohort_codes)
        self.cohort_names = set(map(name_key, cohort_names))
        self.seen_codes: dict[str, int] = {}
        self.possible_duplicates = 0
        self.valid = 0
        self.invalid = 0
        self.by_reason: dict[str, int] = {}

    def restore(self, point: Any) -> None:
        """Carry on after an interrupted run's committed rows (a store.Checkpoint): its tallies and the values
        it had seen, so that the rows after it are judged as one uninterrupted run would judge them."""
        self.valid, self.invalid, self.possible_duplicates = point.valid, point.invalid, point.possible_duplicates
        self.by_reason.clear()
        self.by_reason.update(point.by_reason)  # in place: a learner validator shares this dict
        self.seen_phones, self.seen_emails, self.seen_codes = dict(point.phones), dict(point.emails), dict(point.codes)

    def check(self, row: int, fields: list[str]) -> RowResult:
        count = len(fields)
        if count == self.width and self._all is not None:
            name, phone_raw, email_raw, job_title, employee_code, department = map(str.strip, self._all(fields))
        else:
            name, phone_raw, email_raw, job_title, employee_code, department = [
                fields[i].strip() if 0 <= i < count else "" for i in self.positions]
        return self._judge(row, count, name, phone_raw, email_raw, job_title, employee_code, department)

    def _judge(self, row: int, count: int, name: str, phone_raw: str, email_raw: str, job_title: str,
               employee_code: str, department: str, plain_phone: str | None = None, plain_email: str | None = None
               ) -> RowResult:
        """`check` on a row's stripped values; `plain_phone`/`plain_email`: what the fast paths made of the raw
        values when check_batch already asked them (None: ask here)."""
        errors: list[dict[str, Any]] = []
        if count != self.width:
            errors.append(_error("*", None, "wrong_field_count", WRONG_FIELD_COUNT, count=count, width=self.width))
        if not name:
            errors.append(_error("full_name", name, "full_name_missing"))
        elif len(name) > 200:
            errors.append(_error("full_name", name[:100], "too_long", AT_MOST, limit=200))
            name = name[:200]
        if len(job_title) > 120 or len(employee_code) > 60 or len(department) > 120:
            job_title, employee_code, department = (
                self._limit(column, value, errors)
                for column, value in (("job_title", job_title), ("employee_code", employee_code),
                                      ("department", department)))

        phone = self._phone_of(row, phone_raw, plain_phone, errors) if phone_raw else None
        email = self._email_of(row, email_raw, plain_email, errors) if email_raw else None
        if employee_code:
            self._code_seen(row, employee_code, errors)

        warnings = None
        if not errors and not (phone or email or employee_code) and name_key(name) in self.cohort_names:
            warnings = [_error("full_name", name, "possible_duplicate")]
            self.possible_duplicates += 1

        if errors:
            self.invalid += 1
            for error in errors:
                self.by_reason[error["code"]] = self.by_reason.get(error["code"], 0) + 1
        else:
            self.valid += 1
        return RowResult(row, not errors, name or None, phone, email, job_title or None, employee_code or None,
                         department or None, errors, warnings)

    def _phone_of(self, row: int, phone_raw: str, plain_phone: str | None, errors: list[dict[str, Any]]
                  ) -> str | None:
        """The row's phone in E.164, or None with its problem added to `errors` (a bad or repeated number)."""
        # The fast path first (cheaper than a cache lookup, which only the rest need); long values skip
        # the cache (same answer, bounded memory whatever the file holds).
        e164, code = (plain_phone, None) if plain_phone else self._phone(phone_raw)
        if code:
            errors.append(phone_problem("phone", phone_raw, code, self.country))
            return None
        first = self.seen_phones.setdefault(e164, row)  # type: ignore[arg-type]
        if first != row:
            errors.append(_error("phone", phone_raw, "duplicate_phone_in_file",
                                 FIRST_ON_ROW["duplicate_phone_in_file"], first=first))
        elif e164 in self.cohort_phones:
            errors.append(_error("phone", phone_raw, "duplicate_phone_in_cohort"))
        return e164

    def _email_of(self, row: int, email_raw: str, plain_email: str | None, errors: list[dict[str, Any]]
                  ) -> str | None:
        """The row's email normalised, or None with its problem added to `errors` (a repeat keeps its value)."""
        if (normalized := plain_email or email_fast(email_raw)) is not None:
            problem = None
        else:
            normalized, problem = (normalize_email(email_raw) if len(email_raw) <= 320
                                   else normalize_email_plain(email_raw))
        if normalized is None:
            errors.append({**_error("email", email_raw[:254], "email_invalid"), "message": problem})
            return None
        first = self.seen_emails.setdefault(normalized, row)
        if first != row:
            errors.append(_error("email", email_raw, "duplicate_email_in_file",
                                 FIRST_ON_ROW["duplicate_email_in_file"], first=first))
        elif normalized in self.cohort_emails:
            errors.append(_error("email", email_raw, "duplicate_email_in_cohort"))
        return normalized

    def _code_seen(self, row: int, employee_code: str, errors: list[dict[str, Any]]) -> None:
        first = self.seen_codes.setdefault(employee_code, row)
        if first != row:
            errors.append(_error("employee_code", employee_code, "duplicate_employee_code_in_file",
                                 FIRST_ON_ROW["duplicate_employee_code_in_file"], first=first))
        elif employee_code in self.cohort_codes:
            errors.append(_error("employee_code", employee_code, "duplicate_employee_code_in_cohort"))

    def _phone(self, raw: str) -> PhoneResult:
        if self.algerian:
            return dz_mobile_fast(raw) or (
                normalize_dz_mobile(raw) if len(raw) <= 64 else normalize_dz_mobile_plain(raw))
        if len(raw) > 64:
            return None, "phone_invalid"
        return normalize_mobile(raw, self.country)

    def _plain_phone(self, raw: str) -> str | None:
        """check_batch's phone outside Algeria: the country's fast path (a mobile plainly written → E.164), or
        None (check() decides, with its message)."""
        return mobile_plain(raw, self.country)

    def check_batch(self, rows: Iterable[tuple[int, list[str]]]) -> CheckedRows:
        """`check` for many rows, the common case decided inline (no RowResult, no error list): a row with
        every column, a name, lengths within limits, at least one of phone, email and employee code, a
        plainly written mobile, a plain email, and nothing already seen in the file or the cohort. Any other
        row goes to `check`'s own judgement before anything of it is remembered (with the phone and email as
        read here), so every verdict, message and count is check's (tests compare the two on whole files)."""
        clean: list[CleanRow] = []
        others: list[RowResult] = []
        keep, set_aside, check, judge = clean.append, others.append, self.check, self._judge
        # An Algerian mobile plainly written is one under either rule: the fast path itself, no extra call.
        plain_phone = dz_mobile_plain if self.country == "DZ" else self._plain_phone
        fetch, width, strip = self._all, self.width, str.strip
        name_max, title_max, code_max, department_max = (
            MAX_LENGTHS[c] for c in ("full_name", "job_title", "employee_code", "department"))
        seen_phones, seen_emails, seen_codes = self.seen_phones, self.seen_emails, self.seen_codes
        cohort_phones, cohort_emails, cohort_codes = self.cohort_phones, self.cohort_emails, self.cohort_codes
        for row, fields in rows:
            if fetch is None or len(fields) != width:
                set_aside(check(row, fields))
                continue
            name, phone_raw, email_raw, job_title, employee_code, department = map(strip, fetch(fields))
            # "" for a blank value (never a key of the sets below), None for a value this path can't decide
            phone = plain_phone(phone_raw) if phone_raw else ""
            email = email_fast(email_raw) if email_raw else ""
            if (phone is None or email is None or not name or len(name) > name_max or len(job_title) > title_max
                    or len(employee_code) > code_max or len(department) > department_max
                    or not (phone or email or employee_code)  # a possible duplicate by name: check() decides
                    or phone in seen_phones or phone in cohort_phones or email in seen_emails
                    or email in cohort_emails or employee_code in seen_codes or employee_code in cohort_codes):
                set_aside(judge(row, width, name, phone_raw, email_raw, job_title, employee_code, department,
                                phone or None, email or None))
                continue
            if phone:
                seen_phones[phone] = row
            if email:
                seen_emails[email] = row
            if employee_code:
                seen_codes[employee_code] = row
            keep((row, name, phone, email, job_title, employee_code, department))
        self.valid += len(clean)
        return CheckedRows(clean, others)

    @staticmethod
    def _limit(column: str, value: str, errors: list[dict[str, Any]]) -> str:
        limit = MAX_LENGTHS[column]
        if len(value) <= limit:
            return value
        errors.append(_error(column, value[:100], "too_long", AT_MOST, limit=limit))
        return value[:limit]


# ---------------------------------------------------------------- exports

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value: Any) -> str:
    """A spreadsheet must never run a cell as a formula: prefix ' to risky cells."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
