"""Holidays: the public holidays of the institution's country (the `holidays` library: there from the start,
nothing to enter) and the days the institution adds itself (rows of `holidays`).

Public holidays are computed, never stored: a new year, or a country's new holiday in a newer library, needs
no migration. The planner skips both kinds unless the plan says otherwise (SchedulePlan.use_holidays,
use_public_holidays); the calendar and GET /api/holidays show both, each with its source.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import holidays as holiday_library
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Holiday

PUBLIC, INSTITUTION = "public", "institution"
# The library's language codes for each of the product's languages, in order of preference.
_LIBRARY_LANGUAGES = {"en": ("en_US", "en_GB", "en"), "fr": ("fr",), "ar": ("ar",)}


@dataclass(frozen=True)
class HolidayEntry:
    date: dt.date
    name: str
    source: str  # PUBLIC or INSTITUTION
    id: int | None = None  # the institution's own rows only (they can be removed)


@lru_cache(maxsize=1024)
def public_holidays(country: str, year: int, language: str = "en") -> tuple[tuple[dt.date, str], ...]:
    """The country's public holidays in `year`, (date, name) by date, named in `language` where the library
    has it (else its default); () for a country the library does not know."""
    try:
        kind = holiday_library.country_holidays(country, years=year)
    except NotImplementedError:
        return ()
    supported = set(getattr(kind, "supported_languages", ()) or ())
    chosen = next((code for code in _LIBRARY_LANGUAGES.get(language, ()) if code in supported), None)
    if chosen is not None:
        kind = holiday_library.country_holidays(country, years=year, language=chosen)
    return tuple(sorted(kind.items()))


def public_holiday_dates(country: str, start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """Dates of the country's public holidays in [start, end]."""
    return frozenset(day for year in range(start.year, end.year + 1) for day, _name in public_holidays(country, year)
                     if start <= day <= end)


def _folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def holiday_entries(session: Session, institution_id: int, country: str, year: int, q: str | None = None,
                    language: str = "en", sources: Iterable[str] = (PUBLIC, INSTITUTION)) -> list[HolidayEntry]:
    """The year's holidays of both kinds, by date (a name search ignores case and accents)."""
    wanted = set(sources)
    found: list[HolidayEntry] = []
    if PUBLIC in wanted:
        found += [HolidayEntry(day, name, PUBLIC) for day, name in public_holidays(country, year, language)]
    if INSTITUTION in wanted:
        found += [HolidayEntry(h.date, h.name, INSTITUTION, h.id) for h in session.scalars(
            select(Holiday).where(Holiday.institution_id == institution_id,
                                  Holiday.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31))))]
    if q and q.strip():
        needle = _folded(q.strip())
        found = [h for h in found if needle in _folded(h.name)]
    return sorted(found, key=lambda h: (h.date, h.source != PUBLIC, h.name))


def holidays_in_window(session: Session, institution_id: int, country: str, start: dt.date, end: dt.date,
                       language: str = "en") -> list[HolidayEntry]:
    """Both kinds of holiday in [start, end] (the calendar's window)."""
    return [h for year in range(start.year, end.year + 1)
            for h in holiday_entries(session, institution_id, country, year, language=language)
            if start <= h.date <= end]
