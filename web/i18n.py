"""Languages: Flask-Babel with English, French and Arabic, chosen per request.

Order of choice: a `?lang=` on the request (the sign-in page's switcher), the signed-in user's own
preference (Profile), the switcher's choice remembered in the session, the browser's Accept-Language, the
institution's default language, then English. Dates, numbers and plurals go through Babel in that
language; JavaScript gets the catalogue entries of the msgids web/static/*.js use, as JSON in the page's
<body data-i18n> (`js_catalogue`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates
from babel.messages.extract import extract
from flask import Flask, current_app, g, request, session
from flask_babel import Babel, get_locale, get_translations, gettext
from flask_babel import format_decimal as _format_decimal
from flask_babel import format_percent as _format_percent
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from core.errors import DomainError
from core.i18n import LANGUAGES, RTL_LANGUAGES, Said, fill, label_of
from core.imports.rules import problem_text, reason_sentence
from core.institutions import service as institutions

# Each language named in itself, so that someone who cannot read the page can still find their own.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية"}
STATIC = Path(__file__).parent / "static"
babel = Babel()


def _signed_in() -> Any:
    if g.get("database_unavailable"):
        return None  # who is signed in is a database question (web/errors.py)
    try:
        return current_user if current_user and getattr(current_user, "is_authenticated", False) else None
    except SQLAlchemyError:  # a page that never needed the database asks for its words while it is away
        from .extensions import db

        db.session.rollback()
        g.database_unavailable = True
        return None


def _without_database() -> bool:
    """The view answers without the database (liveness, readiness: web.auth.without_database): so do its words."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "without_database", False))


def institution_language() -> str | None:
    """The default language of the signed-in user's institution, or of the only institution there is
    (a single-provider site, before anyone signs in)."""
    if "institution_language" in g:
        return g.institution_language  # type: ignore[no-any-return]

    from .extensions import db

    found = None
    if not g.get("database_unavailable") and not _without_database():
        user = _signed_in()
        try:
            if user is not None and user.institution_language:
                found = user.institution_language
            elif user is not None and user.institution_id:
                found = institutions.default_language(db.session, user.institution_id)
            elif user is None:
                only = institutions.only_institution(db.session)
                found = only.default_language if only is not None else None
        except SQLAlchemyError:  # the database is away: the page (an error page, say) still needs words
            db.session.rollback()
    g.institution_language = found if found in LANGUAGES else None
    return g.institution_language  # type: ignore[no-any-return]


def select_locale() -> str:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted  # the switcher: kept for the next pages until sign-in
        return wanted
    user = _signed_in()
    preference = getattr(user, "language", None) if user is not None else None
    if preference in LANGUAGES:
        return str(preference)
    if session.get("lang") in LANGUAGES:
        return str(session["lang"])
    return request.accept_languages.best_match(LANGUAGES) or institution_language() or "en"


def language() -> str:
    return str(get_locale() or "en")


def translated_message(exc: DomainError) -> str:
    """A domain error's message in the request's language (its msgid translated, then filled in)."""
    return fill(gettext(exc.template), exc.params, language(), gettext)


# ---------------------------------------------------------------------------------------------------------------
# Template filters: words for codes, and dates and numbers as the reader writes them
# ---------------------------------------------------------------------------------------------------------------

def label(value: Enum | str | None, kind: str | None = None) -> str:
    """An enum member (a status, a role, a kind) as people say it, in the page's language; a raw value
    names its enum: `{{ "THEORY"|label("SessionType") }}`."""
    return gettext(label_of(value, kind)) if value is not None else ""


def say(part: Said | str) -> str:
    """A sentence a core service composed (a `Said`: msgid, maybe plural, values) in the page's language; any
    other text as it is."""
    if not isinstance(part, Said):
        return str(part)
    catalogue = get_translations()
    text = (catalogue.ngettext(part.msgid, part.plural, part.params.get("num", 0)) if part.plural
            else catalogue.gettext(part.msgid))
    return fill(text, part.params, language(), gettext)


def stored_words(text: str | None) -> str:
    """A message stored in English on a row (an import's error): translated when it is a msgid of the
    catalogue, else shown as stored (e.g. a library's own words)."""
    return get_translations().gettext(text) if text else ""


def import_failure(imp: Any) -> str:
    """Why an import's file was refused, in the page's language; a header without full_name names the
    columns that kind of import expects (learners' or trainees')."""
    if (imp.errors_by_reason or {}).get("file") == "missing_full_name":
        from core.imports.service import expected_columns

        return gettext("The header row has no full_name column. The first line must name the columns: "
                       "%(columns)s.", columns=", ".join(expected_columns(imp.kind)))
    return stored_words(imp.error_message)


def job_message(job: Any) -> str:
    return job.said(say) if job is not None else ""


def row_problem(problem: dict[str, Any]) -> str:
    """A CSV row's stored problem in the page's language (English: the stored message, with any detail)."""
    if language() == "en":
        return str(problem.get("message", ""))
    return problem_text(problem, gettext)


def reason(code: str) -> str:
    """An import reason code as a sentence, in the page's language."""
    return gettext(reason_sentence(code))


def weekday_names(width: str = "abbreviated") -> list[str]:
    """Monday to Sunday in the page's language ("Mon", "lun.", "الاثنين")."""
    names = dates.get_day_names(width, locale=language())
    return [names[day] for day in range(7)]


def local_date(value: dt.date | dt.datetime | str | None, pattern: str = "EEE d MMM y") -> str:
    """A date (or a datetime, in its own time zone: the institution's) with a CLDR pattern, in the page's
    language: `EEE dd MMM y` is "Mon 05 Jan 2026", "lun. 05 janv. 2026", "الاثنين 05 يناير 2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # an ISO date from a JSON presenter
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return dates.format_datetime(value, pattern, tzinfo=value.tzinfo, locale=language())
    return dates.format_date(value, pattern, locale=language())


def ltr(value: Any) -> Markup:
    """A value that always reads left to right (a phone number, an email, a code, a timestamp), isolated so
    an Arabic line around it does not reorder its parts ("+213555000001", not "213555000001+")."""
    return Markup('<bdi dir="ltr">%s</bdi>') % ("" if value is None else value)


def stamp(value: dt.datetime | None, zone: str | None = None) -> Markup | str:
    """A stored timestamp as `when` writes it: the institution's time zone, the page's language."""
    return when(value, zone)


def institution_zone(institution_id: int | None = None) -> str:
    """The time zone times are shown in: the named institution's, else the signed-in user's institution's,
    else the only institution's (a single-provider site), else UTC. One query per institution per request."""
    from core.scheduling.reads import institution_zone as zone_of

    from .extensions import db

    if institution_id is None:
        user = _signed_in()
        institution_id = getattr(user, "institution_id", None) if user is not None else None
    cache = g.setdefault("institution_zones", {})
    if institution_id not in cache:
        try:
            if institution_id is None:
                only = None if g.get("database_unavailable") else institutions.only_institution(db.session)
                cache[None] = only.time_zone if only is not None else "UTC"
            else:
                cache[institution_id] = zone_of(db.session, institution_id)
        except SQLAlchemyError:
            db.session.rollback()
            return "UTC"
    return str(cache[institution_id])


def when(value: dt.datetime | None, zone: str | None = None) -> Markup | str:
    """A moment (stored in UTC) in the institution's time zone, as the page's language writes a date and a
    time ("Dec 7, 2026 20:50", "7 déc. 2026 20:50", "07‏/12‏/2026 20:50"), kept in one direction."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(ZoneInfo(zone or institution_zone()))
    code = language()
    return ltr(f"{dates.format_date(local, 'medium', locale=code)} {dates.format_time(local, 'HH:mm', locale=code)}")


def number(value: float | int | None) -> str:
    return "" if value is None else _format_decimal(value)


def percent(value: float | None, decimals: int = 0) -> str:
    """A rate (0.875) as the page's language writes a percentage: "88%", "87,5 %", "88٪"."""
    if value is None:
        return "—"
    pattern = Locale.parse(language()).percent_formats[None].pattern  # the language's own: "#,##0 %" in French
    if decimals:
        last = pattern.rfind("0") + 1
        pattern = pattern[:last] + "." + "0" * decimals + pattern[last:]
    return _format_percent(value, format=pattern)


# ---------------------------------------------------------------------------------------------------------------
# The JavaScript catalogue
# ---------------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def js_msgids() -> tuple[str | tuple[str, str], ...]:
    """The msgids web/static/*.js pass to `_()` / `ngettext()` (the same extraction bin/translations runs)."""
    found: dict[str | tuple[str, str], None] = {}
    for path in sorted(STATIC.glob("*.js")):
        with path.open("rb") as handle:
            for _line, message, _comments, _context in extract("javascript", handle,
                                                                keywords={"_": None, "ngettext": (1, 2)}):
                found[message if isinstance(message, str) else (message[0], message[1])] = None
    return tuple(found)


def _plural_map(code: str) -> dict[str, int]:
    """CLDR plural category (what the browser's Intl.PluralRules says) → the catalogue's plural form index."""
    translations = get_translations()
    form = getattr(translations, "plural", None) or (lambda n: int(n != 1))
    rules = Locale.parse(code).plural_form
    mapping: dict[str, int] = {}
    for n in [*range(0, 200), 1000, 1000000]:
        mapping.setdefault(rules(n), form(n))
    return mapping


def _plural_forms(singular: str, plural: str) -> list[str]:
    catalogue = getattr(get_translations(), "_catalog", {})
    forms: list[str] = []
    for index in range(6):
        if (singular, index) not in catalogue:
            break
        forms.append(catalogue[(singular, index)])
    return forms if forms and all(forms) else [singular, plural]


def js_catalogue() -> dict[str, Any]:
    code = language()
    messages: dict[str, Any] = {}
    for msgid in js_msgids():
        if isinstance(msgid, tuple):
            messages[msgid[0]] = _plural_forms(*msgid)
        else:
            messages[msgid] = gettext(msgid)
    return {"lang": code, "plural": _plural_map(code), "messages": messages}


def _template_helpers() -> Iterator[tuple[str, Any]]:
    yield "label", label
    yield "local_date", local_date
    yield "number", number
    yield "ltr", ltr
    yield "stamp", stamp
    yield "when", when
    yield "percent", percent
    yield "row_problem", row_problem
    yield "reason", reason
    yield "job_message", job_message
    yield "stored_words", stored_words
    yield "import_failure", import_failure


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    for name, function in _template_helpers():
        app.jinja_env.filters[name] = function
    app.jinja_env.globals.update(js_catalogue=js_catalogue, LANGUAGE_NAMES=LANGUAGE_NAMES, weekday_names=weekday_names,
                                 institution_zone=institution_zone)

    @app.context_processor
    def language_context() -> dict[str, Any]:
        code = language()
        return {"lang": code, "text_direction": "rtl" if code in RTL_LANGUAGES else "ltr"}

    @app.after_request
    def vary_on_language(response: Any) -> Any:
        if request.endpoint != "static":
            response.vary.add("Accept-Language")  # caches keep one copy per language
            response.content_language.add(language())
        return response


def document_language(screen: bool) -> str | None:
    """The language of a document (a register, a report) requested without naming one. From a screen: the
    requester's (their profile, else the page's). Through the API: Accept-Language, then the requester's
    profile; None leaves it to the service (the institution's default)."""
    user = _signed_in()
    profile = getattr(user, "language", None) if user is not None else None
    profile = profile if profile in LANGUAGES else None
    if screen:
        return profile or language()
    header = request.headers.get("Accept-Language")
    return (request.accept_languages.best_match(LANGUAGES) if header else None) or profile


def current_language() -> str:
    """The request's language code ("en", "fr", "ar"): lists sort names by its collation (core.collation)."""
    return language()
