"""Words the domain says, marked for translation without importing Flask.

`N_("…")` only marks a msgid for extraction (pybabel's keyword list includes N_); the web layer, mails
and documents translate it with Flask-Babel/Babel in the reader's language. Interpolated values go in
`params` (`%(name)s` placeholders), never into the msgid, so the catalogue can match it.

`Words` is the catalogue of one language for code that runs outside a request (mails sent by tasks, one
recipient after another, each in their own language): gettext/ngettext plus dates and numbers by Babel.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from babel import dates, numbers
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "fr", "ar")
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


def N_(msgid: str) -> str:
    return msgid


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a msgid with its plural (extracted as one plural entry; bin/translations passes `-k Np_:1,2`)."""
    return singular, plural


# Codes as people say them, by enum class name then value (core.models.enums; no import, no cycle).
LABELS: dict[str, dict[str, str]] = {
    "Role": {"super_admin": N_("super admin"), "admin": N_("admin"), "support": N_("support"),
             "teacher": N_("teacher"), "org_member": N_("org member"), "regulator": N_("regulator"),
             "learner": N_("learner")},
    "CohortStatus": {"ACTIVE": N_("active"), "COMPLETED": N_("completed"), "ARCHIVED": N_("archived"),
                     "CANCELLED": N_("cancelled")},
    "CohortType": {"public": N_("public"), "corporate": N_("corporate")},
    "AgreementStatus": {"DRAFT": N_("draft"), "ACTIVE": N_("active"), "SUSPENDED": N_("suspended"),
                        "EXPIRED": N_("expired"), "TERMINATED": N_("terminated")},
    "EnrolmentStatus": {"ACTIVE": N_("active"), "WITHDRAWN": N_("withdrawn"), "COMPLETED": N_("completed")},
    "SessionType": {"THEORY": N_("Theory"), "PRACTICAL": N_("Practical"), "WBL": N_("Work-based learning"),
                    "ASSESSMENT": N_("Assessment"), "ORIENTATION": N_("Orientation"), "OTHER": N_("Other")},
    "InvoiceStatus": {"draft": N_("draft"), "issued": N_("issued"), "partly_paid": N_("partly paid"),
                      "paid": N_("paid"),
                      "credited": N_("credited"), "overdue": N_("overdue")},
    "BillingCounts": {"attended_trainee_days": N_("Attended trainee-days"),
                      "enrolled_trainees": N_("Enrolled trainees"),
                      "delivered_sessions": N_("Delivered sessions"), "upfront": N_("Upfront payment"),
                      "instalment": N_("Monthly instalment"), "completion": N_("Balance on completion"),
                      "manual": N_("Adjustment")},
    "SessionStatus": {"SCHEDULED": N_("scheduled"), "COMPLETED": N_("completed"), "CANCELLED": N_("cancelled")},
    "AttendanceStatus": {"PRESENT": N_("Present"), "ABSENT": N_("Absent"), "LATE": N_("Late"),
                         "EXCUSED": N_("Excused")},
    # Import screens have always shown the codes themselves: in English they stay so.
    "ImportStatus": {"UPLOADED": N_("UPLOADED"), "VALIDATING": N_("VALIDATING"), "VALIDATED": N_("VALIDATED"),
                     "FAILED": N_("FAILED"), "COMMITTING": N_("COMMITTING"), "COMMITTED": N_("COMMITTED"),
                     "CANCELLED": N_("CANCELLED")},
    "DocumentStatus": {"PENDING": N_("waiting"), "BUILDING": N_("building"), "READY": N_("ready"),
                       "FAILED": N_("failed")},
    "DocumentFormat": {"pdf": "PDF", "xlsx": N_("Excel"), "csv": "CSV"},
    "SubmissionStatus": {"DRAFT": N_("draft"), "SUBMITTED": N_("submitted"), "ACCEPTED": N_("accepted"),
                         "REJECTED": N_("rejected")},
    "AccessRequestStatus": {"PENDING": N_("pending"), "APPROVED": N_("approved"), "DENIED": N_("denied"),
                            "REVOKED": N_("revoked"), "EXPIRED": N_("expired")},
    "AccessScope": {"institution": N_("the whole institution"), "cohorts": N_("named cohorts")},
    "ReminderStatus": {"PENDING": N_("pending"), "SENT": N_("sent"), "FAILED": N_("failed")},
    "ApologyStatus": {"pending": N_("pending"), "approved": N_("approved"), "declined": N_("declined")},
    "ScheduleRunStatus": {"PENDING": N_("waiting"), "RUNNING": N_("running"), "SUCCEEDED": N_("succeeded"),
                          "FAILED": N_("failed")},
    "FeedKind": {"facilitator": N_("facilitator"), "cohort": N_("cohort"), "room": N_("room")},
    # What a scheduling clash is about (core.scheduling.planner's resources).
    "Resource": {"room": N_("Room"), "instructor": N_("Instructor"), "cohort": N_("Cohort")},
}


class Msgid(str):
    """A message parameter that is itself a msgid ("Room" in "Room %(name)s is busy…"): translated with it."""


def fill(text: str, params: dict[str, Any], language: str = "en", translate: Callable[[str], str] | None = None
         ) -> str:
    """`text` (a translated msgid) filled in with `params`; a duration reads as the language says it
    ("30 seconds", "30 secondes", "30 ثانية") and a `Msgid` parameter is translated by `translate`."""
    if not params:
        return text

    def shown(value: Any) -> Any:
        if isinstance(value, dt.timedelta):
            return dates.format_timedelta(value, threshold=1, locale=language)
        if isinstance(value, Msgid) and translate is not None:
            return translate(value)
        return value

    return text % {key: shown(value) for key, value in params.items()}


class Said(str):
    """A sentence core composed: reads as its English text, and keeps its msgid (with its plural when `num`
    counts something) and values, so the web layer can say it again in the reader's language."""

    msgid: str
    params: dict[str, Any]
    plural: str | None

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None, plural: str | None = None) -> Said:
        params = params or {}
        chosen = plural if plural and params.get("num") != 1 else msgid
        said = super().__new__(cls, fill(chosen, params, translate=str))
        said.msgid, said.params, said.plural = msgid, params, plural
        return said


def label_of(value: Enum | str, kind: str | None = None) -> str:
    """The msgid that names an enum member, or a raw value of the enum named `kind` (translate it where it
    is shown); the value itself, in lower case, if none does."""
    raw = value.value if isinstance(value, Enum) else value
    return LABELS.get(kind or type(value).__name__, {}).get(str(raw), str(raw).replace("_", " ").lower())


@dataclass(frozen=True)
class Words:
    """One language's catalogue with Babel's dates and numbers: what a mail or a document says."""

    language: str
    translations: NullTranslations

    def gettext(self, msgid: str, **params: Any) -> str:
        return fill(self.translations.gettext(msgid), params, self.language, self.translations.gettext)

    def ngettext(self, singular: str, plural: str, num: int, **params: Any) -> str:
        return self.translations.ngettext(singular, plural, num) % {"num": num, **params}

    def label(self, value: Enum | str, kind: str | None = None) -> str:
        return self.gettext(label_of(value, kind))

    def date(self, value: dt.date | dt.datetime, pattern: str = "EEE d MMM y") -> str:
        """`value` in its own time zone (the institution's), written as the reader's language writes it."""
        if isinstance(value, dt.datetime):
            return dates.format_datetime(value, pattern, tzinfo=value.tzinfo, locale=self.language)
        return dates.format_date(value, pattern, locale=self.language)

    def percent(self, value: float) -> str:
        return numbers.format_percent(value, locale=self.language)

    @property
    def direction(self) -> str:
        return "rtl" if self.language in RTL_LANGUAGES else "ltr"


def reader_language(own: str | None, institution_default: str | None) -> str:
    """The language to write to someone in: their own choice, else their institution's default, else English."""
    for code in (own, institution_default):
        if code in LANGUAGES:
            return code
    return "en"


@functools.lru_cache(maxsize=16)
def words(directory: str | None, language: str | None) -> Words:
    """The catalogue of `language` from a translations directory (web/translations); English when there is
    no such catalogue (or no directory: code run without the app)."""
    code = language if language in LANGUAGES else "en"
    if not directory or code == "en":
        return Words(code, NullTranslations())
    return Words(code, Translations.load(directory, [code]))


def direction(language: str) -> str:
    """"rtl" for right-to-left languages, else "ltr" (for `dir=` on documents)."""
    return "rtl" if language.split("-")[0].split("_")[0] in RTL_LANGUAGES else "ltr"


def catalogue(directory: str | None, language: str) -> NullTranslations:
    """`language`'s catalogue from the app's translations directory (English, the msgids, when there is none).
    Documents and mails built by a worker use it without Flask: the worker passes the directory in."""
    return words(directory, language).translations
