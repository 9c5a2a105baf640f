"""An institution's country (ISO 3166-1 alpha-2): what decides its phones and public holidays.

When a country is not given it is derived from the institution's time zone: the IANA zone table
(zone.tab, from the `tzdata` package or the system's zoneinfo) says which country each zone is in.
Pure: no database, no Flask.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import phonenumbers

COUNTRY = re.compile(r"[A-Z]{2}")
# The zones the product's providers use, so the common case needs no table at all.
KNOWN_ZONES = {"Africa/Johannesburg": "ZA", "Africa/Algiers": "DZ", "Africa/Maseru": "LS", "Africa/Mbabane": "SZ",
               "Africa/Windhoek": "NA", "Africa/Gaborone": "BW", "Africa/Tunis": "TN", "Africa/Casablanca": "MA"}
_SYSTEM_TABLES = (Path("/usr/share/zoneinfo/zone.tab"), Path("/usr/share/lib/zoneinfo/zone.tab"))


def _table_text() -> str:
    try:
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        pass
    for path in _SYSTEM_TABLES:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _table_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            table[parts[2].strip()] = parts[0].strip().upper()
    return table


def country_for_zone(zone: str) -> str | None:
    """The country a time zone is in (Africa/Johannesburg → ZA), or None (UTC, Etc/…, unknown)."""
    return KNOWN_ZONES.get(zone) or _zone_countries().get(zone)


def normalize_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; ValueError (with a sentence) for anything else."""
    code = value.strip().upper()
    if not COUNTRY.fullmatch(code) or not is_known_country(code):
        raise ValueError("use a two-letter ISO 3166-1 country code such as ZA or DZ")
    return code


def is_known_country(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS


# --- money: what a country's invoices default to (core.finance reads these, never its own table) -------------

# The standard rate of the country's value-added tax, in hundredths of a percent, and its name as printed on
# invoices: South Africa's VAT (15 %, VAT Act 89 of 1991, s. 7), Algeria's TVA (19 %, taux normal).
STANDARD_TAX = {"ZA": ("VAT", 1500), "DZ": ("TVA", 1900)}


def currency_for_country(code: str) -> str | None:
    """The country's legal tender today (ISO 4217, from Babel's CLDR data): ZA → ZAR, DZ → DZD; None if unknown."""
    from babel.numbers import get_territory_currencies

    try:
        found = get_territory_currencies(code.upper(), tender=True)
    except Exception:  # an unknown territory: Babel raises rather than answering nothing
        return None
    return found[0] if found else None


def standard_tax(code: str) -> tuple[str, int] | None:
    """(name, rate in hundredths of a percent) of the country's standard sales tax, or None where not known."""
    return STANDARD_TAX.get(code.upper())
# Personal-data breaches: hours after discovery at which the institution is reminded until it records who it
# notified. POPIA s.22 (ZA): "as soon as reasonably possible" (72 hours, the regulator's expectation); Algeria's law
# 18-07 as amended in 2025: five days. Elsewhere the 72-hour reminder alone.
BREACH_REMINDER_HOURS: dict[str, tuple[int, ...]] = {"ZA": (72,), "DZ": (72, 120)}


def breach_reminder_hours(country: str | None) -> tuple[int, ...]:
    return BREACH_REMINDER_HOURS.get((country or "").upper(), (72,))
