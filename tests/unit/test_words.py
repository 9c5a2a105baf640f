"""Words outside a request (core.i18n.Words): what mails and stored messages say in each reader's language.

Reads the compiled catalogues of web/translations (bin/install builds them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.errors import TooManyAttempts
from core.i18n import N_, Said, fill, reader_language, words
from core.imports import rules
from core.reminders.rules import UnmarkedItem, unmarked_mail

CATALOGUES = str(Path(__file__).resolve().parents[2] / "web" / "translations")


def test_a_language_we_do_not_have_reads_as_english():
    assert words(CATALOGUES, "de").language == "en"
    assert words(None, "fr").gettext("Hello %(name)s,", name="A") == "Hello A,"  # no catalogues at hand


@pytest.mark.parametrize(("count", "expected"), [
    (0, "لا سجلات متبقية للتعبئة (0)"), (1, "سجل واحد متبقٍّ للتعبئة"), (2, "سجلان متبقيان للتعبئة"),
    (3, "3 سجلات متبقية للتعبئة"), (11, "11 سجلًا متبقيًا للتعبئة"), (100, "100 سجل متبقٍّ للتعبئة")])
def test_arabic_has_six_plural_forms(count, expected):
    arabic = words(CATALOGUES, "ar")
    assert arabic.ngettext("%(num)s register still to mark", "%(num)s registers still to mark", count) == expected


def test_french_says_one_for_zero_and_one_and_many_beyond():
    french = words(CATALOGUES, "fr")
    said = [french.ngettext("%(num)s row.", "%(num)s rows.", n) for n in (0, 1, 2)]
    assert said == ["0 ligne.", "1 ligne.", "2 lignes."]


def test_durations_in_messages_read_in_the_readers_language():
    error = TooManyAttempts(N_("Too many failed sign-ins for this account from here. Wait %(wait)s and try again."),
                            params={"wait": dt.timedelta(seconds=30)}, retry_after=30)
    assert error.message.endswith("Wait 30 seconds and try again.")  # English, for logs and tasks
    french = words(CATALOGUES, "fr")
    said = french.gettext(error.template, **error.params)
    assert said.endswith("Patientez 30\u00a0secondes et réessayez.")  # CLDR puts a no-break space


def test_a_said_sentence_is_english_text_that_keeps_its_msgid_and_values():
    problem = Said(N_("Slot %(n)s ends before it starts."), {"n": 2})
    assert problem == "Slot 2 ends before it starts." and problem.msgid.startswith("Slot %(n)s")
    arabic = words(CATALOGUES, "ar")
    assert fill(arabic.translations.gettext(problem.msgid), problem.params) == "تنتهي الفترة 2 قبل أن تبدأ."


def test_a_stored_row_problem_is_told_again_in_french_with_its_row_number():
    validator = rules.RowValidator(["full_name", "phone"])
    validator.check(1, ["Amel Bouzid", "0555 12 34 56"])
    [problem] = validator.check(2, ["Karim Mansouri", "0555123456"]).errors
    assert problem["message"] == "Duplicate phone number in this file (first on row 1)."  # stored, English
    french = words(CATALOGUES, "fr").translations.gettext
    assert rules.problem_text(problem, french) == \
        "Numéro de téléphone en double dans ce fichier (première fois à la ligne 1)."


def test_the_reminder_mail_in_french_keeps_the_institutions_time_zone():
    zone = ZoneInfo("Africa/Algiers")
    item = UnmarkedItem(session_id=7, cohort_name="Soudure — Promo 1",
                        starts_local=dt.datetime(2026, 1, 5, 9, 0, tzinfo=zone),
                        ends_local=dt.datetime(2026, 1, 5, 12, 0, tzinfo=zone), unmarked=3, roster=12,
                        locks_at_local=dt.datetime(2026, 1, 7, 0, 0, tzinfo=zone), time_zone="Africa/Algiers")
    subject, text, html = unmarked_mail("Amel", [item], "https://att.example", words(CATALOGUES, "fr"))
    assert subject == "1 registre encore à remplir"
    assert "- Soudure — Promo 1, lun. 05 janv. 2026 09:00–12:00: 3 sur 12 non marqués." in text
    assert "Verrouillage : mer. 07 janv. 00:00 (Africa/Algiers)." in text
    assert html.startswith("<p>Bonjour Amel,</p>")
    english = unmarked_mail("Amel", [item], "https://att.example")
    assert english[0] == "1 register still to mark" and "Mon 05 Jan 2026 09:00–12:00: 3 of 12 unmarked." in english[1]


def test_the_reader_is_written_to_in_their_own_language_else_their_institutions():
    assert reader_language("fr", "ar") == "fr"
    assert reader_language(None, "ar") == "ar"
    assert reader_language("xx", None) == "en"
