"""Exact money: integer minor units, each currency's exponent from Babel's ISO 4217 data.

The rule (also in the README and printed on every invoice):

* an amount is an integer count of the currency's minor unit (ZAR cents, JPY yen, KWD fils: exponent 2, 0, 3);
* a line's amount is quantity × unit price (exact);
* a line's tax is its amount × the tax rate, rounded half up to the minor unit, per line;
* the invoice's subtotal, tax and total are sums of the lines' (no rounding at the invoice level).

Amounts, prices and tax rates travel as decimal strings in the currency's major unit ("862.50") and are
parsed here with no float anywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from core.errors import ValidationError
from core.i18n import N_

# The largest amount the platform takes, in minor units: far above any real invoice, far below BIGINT, so
# quantity × price × rate never overflows a PostgreSQL bigint.
MAX_MINOR = 10**13
MAX_QUANTITY = 1_000_000
# Tax rates are hundredths of a percent: "15.00" → 1500; 0 … 100 %.
RATE_SCALE = 10_000
MAX_RATE = 10_000
_DECIMAL = re.compile(r"^(?P<sign>-?)(?P<whole>\d{1,16})(?:\.(?P<fraction>\d{1,6}))?$")


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def exponent(currency: str) -> int:
    """Digits after the decimal point in `currency` (ISO 4217, from Babel's CLDR data): ZAR 2, JPY 0, KWD 3."""
    code = normalize_currency(currency)
    return int(get_currency_precision(code))


def normalize_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if len(code) != 3 or code not in known_currencies():
        raise ValidationError(N_("Unknown currency %(currency)s: use an ISO 4217 code such as ZAR, DZD, EUR or USD."),
                              code="unknown_currency", params={"currency": (currency or "")[:10]},
                              details=[{"field": "currency", "message": "unknown ISO 4217 code"}])
    return code


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero (0.5 → 1, -0.5 → -1)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def refuse(where: str, message: str, code: str, **params: object) -> ValidationError:
    """A 422 naming the field `where`, its details saying the error's own sentence."""
    error = ValidationError(message, code=code, params={"field": where, **params})
    error.details = [{"field": where, "message": error.message}]
    return error


def parse_amount(text: str, currency: str, *, field: str = "amount", allow_zero: bool = True,
                 allow_negative: bool = False) -> int:
    """"862.50" in ZAR → 86250 minor units. More decimals than the currency has, signs where none are allowed,
    anything that is not a plain decimal, or an absurd size: a 422 naming `field`."""
    digits = exponent(currency)
    match = _DECIMAL.match(str(text).strip()) if isinstance(text, str | int) else None
    if match is None:
        raise refuse(field, N_("%(field)s must be a decimal number such as 862.50."), "invalid_amount", field=field)
    fraction = match["fraction"] or ""
    if len(fraction) > digits:
        raise refuse(field, N_("%(field)s has more decimals than %(currency)s allows (%(digits)s)."),
                      "too_many_decimals", field=field, currency=currency, digits=digits)
    minor = int(match["whole"]) * 10**digits + int((fraction or "0").ljust(digits, "0")[:digits] or "0")
    if match["sign"]:
        minor = -minor
    if minor < 0 and not allow_negative:
        raise refuse(field, N_("%(field)s must not be negative."), "negative_amount", field=field)
    if minor == 0 and not allow_zero:
        raise refuse(field, N_("%(field)s must be more than zero."), "zero_amount", field=field)
    if abs(minor) > MAX_MINOR:
        raise refuse(field, N_("%(field)s is too large."), "amount_too_large", field=field)
    return minor


def format_amount(minor: int, currency: str) -> str:
    """86250 ZAR → "862.50"; 1500 JPY → "1500"; -5 KWD → "-0.005" (no grouping: a value, not a display)."""
    digits = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def display(minor: int, currency: str, locale: str) -> str:
    """86250 ZAR in fr → "862,50 ZAR": the amount as the reader's language writes money (documents, mails)."""
    value = Decimal(minor).scaleb(-exponent(currency))
    return format_currency(value, currency, locale=locale.replace("-", "_"))


def parse_rate(text: str, *, field: str = "tax_rate") -> int:
    """A percentage with at most two decimals, 0 … 100: "15" → 1500, "15.5" → 1550 (hundredths of a percent)."""
    match = _DECIMAL.match(str(text).strip()) if isinstance(text, str | int) else None
    if match is None or match["sign"] or len(match["fraction"] or "") > 2:
        raise refuse(field, N_("%(field)s must be a percentage with at most two decimals, such as 15.00."),
                      "invalid_rate", field=field)
    rate = int(match["whole"]) * 100 + int((match["fraction"] or "0").ljust(2, "0"))
    if rate > MAX_RATE:
        raise refuse(field, N_("%(field)s must be between 0 and 100."), "rate_out_of_range", field=field)
    return rate


def format_rate(rate: int) -> str:
    """1500 → "15.00"."""
    return f"{rate // 100}.{rate % 100:02d}"


def line_amount(quantity: int, unit_price: int) -> int:
    return quantity * unit_price


def line_tax(amount: int, rate: int) -> int:
    """A line's tax: amount × rate, half up to the minor unit (rate in hundredths of a percent)."""
    return half_up(amount * rate, RATE_SCALE)


def share(amount: int, percent: int) -> int:
    """`percent` (hundredths of a percent) of `amount`, half up to the minor unit."""
    return half_up(amount * percent, RATE_SCALE)


def totals(lines: list[tuple[int, int]]) -> tuple[int, int, int]:
    """(subtotal, tax, total) of lines given as (amount, rate): tax per line rounded, then summed."""
    subtotal = sum(amount for amount, _ in lines)
    tax = sum(line_tax(amount, rate) for amount, rate in lines)
    return subtotal, tax, subtotal + tax
