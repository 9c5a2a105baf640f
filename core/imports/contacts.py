"""Phone numbers and email addresses: mobiles of the institution's country to E.164, emails normalised.

Algeria (the seed's country, and the rule of its corporate trainee imports) has its own fast path below;
any other country is read by phonenumbers with that country as the default region (`normalize_mobile`).
A phone holding letters is refused: phonenumbers would read "0800 FLOWERS" through a telephone keypad.

Each check is cached per distinct raw value and has a fast path for the common shapes that gives exactly
the answer the library gives (tests compare them on large random samples); anything unusual goes to the
library itself.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberType

_DZ = phonenumbers.PhoneMetadata.metadata_for_region("DZ")
_SPECIAL_TYPES = (  # the order phonenumbers checks them in (phonenumberutil._number_type_helper)
    ("premium_rate", PhoneNumberType.PREMIUM_RATE), ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST), ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER), ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN), ("voicemail", PhoneNumberType.VOICEMAIL),
)
_Desc = tuple[frozenset[int], re.Pattern[str]] | None


def _compile_desc(desc: Any) -> _Desc:
    """A number description from phonenumbers' metadata as (possible lengths, compiled pattern)."""
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern, re.ASCII)


def _matches(nsn: str, desc: _Desc) -> bool:
    # Same test as phonenumberutil._is_number_matching_desc: length first, then a full match.
    if desc is None:
        return False
    lengths, pattern = desc
    if lengths and len(nsn) not in lengths:
        return False
    return pattern.fullmatch(nsn) is not None


_DZ_GENERAL = _compile_desc(_DZ.general_desc)
_DZ_SPECIAL = tuple((_compile_desc(getattr(_DZ, name)), kind) for name, kind in _SPECIAL_TYPES)
_DZ_FIXED = _compile_desc(_DZ.fixed_line)
_DZ_MOBILE = _compile_desc(_DZ.mobile)


def _whole(desc: _Desc) -> str:
    """A regex fragment (for a lookaround) true when `desc` matches the whole rest of the string."""
    assert desc is not None
    lengths, pattern = desc
    length = f"(?=(?:{'|'.join(f'.{{{n}}}' for n in sorted(lengths))})\\Z)" if lengths else ""
    return f"{length}(?:{pattern.pattern})\\Z"


def _mobile_regex() -> re.Pattern[str] | None:
    """One regex equal to "dz_number_type(nsn) == MOBILE": general matches, no special type, not fixed, mobile."""
    if _DZ_GENERAL is None or _DZ_MOBILE is None or _DZ.same_mobile_and_fixed_line_pattern:
        return None
    parts = [f"(?={_whole(_DZ_GENERAL)})"]
    parts += [f"(?!{_whole(desc)})" for desc, _ in _DZ_SPECIAL if desc is not None]
    if _DZ_FIXED is not None:
        parts.append(f"(?!{_whole(_DZ_FIXED)})")
    parts.append(f"(?={_whole(_DZ_MOBILE)})")
    return re.compile("".join(parts), re.ASCII)


_DZ_MOBILE_ONLY = _mobile_regex()
# The commonest shape of all in one match: a mobile written without separators (0…, +213…, 00213… or
# bare national digits; the same shapes as _DZ_SHAPES, tried in its order), group 1 its national number.
_DZ_MOBILE_PLAIN = None if _DZ_MOBILE_ONLY is None else re.compile(
    r"(?:\+213|00213|0|(?!213))((?=[1-9]\d{7,8}\Z)" + _DZ_MOBILE_ONLY.pattern + r"\d+)", re.ASCII)


def dz_number_type(nsn: str) -> int:
    """phonenumbers' number type for an Algerian national significant number, from its own metadata,
    decided like phonenumberutil._number_type_helper but with the patterns compiled once."""
    if not _matches(nsn, _DZ_GENERAL):
        return PhoneNumberType.UNKNOWN
    for desc, kind in _DZ_SPECIAL:
        if _matches(nsn, desc):
            return kind
    if _matches(nsn, _DZ_FIXED):
        if _DZ.same_mobile_and_fixed_line_pattern or _matches(nsn, _DZ_MOBILE):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not _DZ.same_mobile_and_fixed_line_pattern and _matches(nsn, _DZ_MOBILE):
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN
# Digits with single space, dot or hyphen separators, optionally a leading "+"; nothing else. Every fast-path
# pattern takes ASCII digits only (re.ASCII): phonenumbers reads Arabic-Indic or full-width digits as their
# ASCII values, which a Unicode \d would copy into the "E.164" as they are.
_SIMPLE_PHONE = re.compile(r"\+?\d+(?:[ .\-]\d+)*", re.ASCII)
_DZ_SHAPES = re.compile(r"(?:\+213|00213|0)([1-9]\d{7,8})|(?!213)([1-9]\d{7,8})", re.ASCII)


def _without_separators(raw: str) -> str:
    # Three replace() calls: several times cheaper than one translate() with a deletion table.
    return raw.replace(" ", "").replace(".", "").replace("-", "")

PhoneResult = tuple[str | None, str | None]  # (E.164, None) or (None, reason code)


def has_letters(raw: str) -> bool:
    """True when `raw` holds a letter of any script (never read through a keypad)."""
    return _LETTER.search(raw) is not None


_LETTER = re.compile(r"[^\W\d_]")


def normalize_dz_mobile_plain(raw: str) -> PhoneResult:
    """The reference: what phonenumbers says, step by step, with no shortcut (and no keypad letters)."""
    if has_letters(raw):
        return None, "phone_letters"
    try:
        number = phonenumbers.parse(raw, "DZ")
    except NumberParseException:
        return None, "phone_invalid"
    if not phonenumbers.is_valid_number(number):
        return None, "phone_invalid"
    if phonenumbers.region_code_for_number(number) != "DZ":
        return None, "phone_not_dz"
    if phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
        return None, "phone_not_mobile"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def dz_mobile_plain(raw: str) -> str | None:
    """The commonest shape of all, in one match: an Algerian mobile written 0…, +213…, 00213… or as bare
    national digits, separators (space, dot, hyphen) only between digits → its E.164; None: not this
    shape (dz_mobile_fast or phonenumbers decide)."""
    if _DZ_MOBILE_PLAIN is None:
        return None
    digits = _without_separators(raw)
    plain = _DZ_MOBILE_PLAIN.fullmatch(digits)
    if plain is None or (len(digits) != len(raw) and _SIMPLE_PHONE.fullmatch(raw) is None):
        return None
    return "+213" + plain.group(1)


def dz_mobile_fast(raw: str) -> PhoneResult | None:
    """The common shapes (0XXXXXXXXX, +213…, 00213…, bare national digits), decided by the same
    metadata test phonenumbers runs; None means "not sure: ask phonenumbers"."""
    if (e164 := dz_mobile_plain(raw)) is not None:
        return e164, None
    if not _SIMPLE_PHONE.fullmatch(raw):
        return None
    digits = _without_separators(raw)
    match = _DZ_SHAPES.fullmatch(digits)
    if match is None:
        return None
    nsn = match.group(1) or match.group(2)
    if _DZ_MOBILE_ONLY is not None and _DZ_MOBILE_ONLY.match(nsn):
        return "+213" + nsn, None
    kind = dz_number_type(nsn)
    if kind == PhoneNumberType.MOBILE:
        return "+213" + nsn, None
    if kind == PhoneNumberType.UNKNOWN:
        return None, "phone_invalid"
    return None, "phone_not_mobile"


@lru_cache(maxsize=32_768)
def normalize_dz_mobile(raw: str) -> PhoneResult:
    """An Algerian mobile number in E.164 (+213…), or the reason it is not one."""
    fast = dz_mobile_fast(raw)
    return fast if fast is not None else normalize_dz_mobile_plain(raw)


# ---------------------------------------------------------------- any country

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def _international_form(raw: str) -> bool:
    text = raw.lstrip()
    return text.startswith(("+", "00"))


def normalize_mobile_plain(raw: str, country: str) -> PhoneResult:
    """The reference for any country: national form is a mobile of `country`; international form a valid
    mobile of its own country."""
    if has_letters(raw):
        return None, "phone_letters"
    try:
        number = phonenumbers.parse(raw, country)
    except NumberParseException:
        return None, "phone_invalid"
    if not phonenumbers.is_valid_number(number):
        return None, "phone_invalid"
    region = phonenumbers.region_code_for_number(number)
    if region != country and not _international_form(raw):
        return None, "phone_invalid"
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None, "phone_not_mobile"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


@lru_cache(maxsize=32_768)
def normalize_mobile(raw: str, country: str) -> PhoneResult:
    """A mobile in E.164, or the reason it is not one: written nationally, a mobile of `country`; written
    internationally, a valid mobile of its own country. Algeria keeps its fast path."""
    if country == "DZ":
        e164, code = normalize_dz_mobile(raw)
        if code != "phone_not_dz":
            return e164, code
        return normalize_mobile_plain(raw, "DZ")  # another country's mobile, written internationally
    if (e164 := mobile_plain(raw, country)) is not None:
        return e164, None
    return normalize_mobile_plain(raw, country)


@lru_cache(maxsize=64)
def _plain_mobile_regex(country: str) -> tuple[re.Pattern[str], str] | None:
    """The Algerian plain-shape regex built for any country from its metadata: a mobile written with its
    national prefix, +CC, 00CC or as bare national digits, group 1 its national number; with the E.164 prefix.
    None where the shortcut would not be sure (mobile and fixed patterns alike, no national prefix "0",
    an international prefix other than 00, a calling code shared with other regions)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if (meta is None or meta.same_mobile_and_fixed_line_pattern or meta.national_prefix != "0"
            or meta.national_prefix_for_parsing not in (None, "0") or meta.national_prefix_transform_rule
            or meta.international_prefix != "00"
            or len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ())) != 1):
        return None  # (a calling code shared by several regions: which one a number is in needs the library)
    general, mobile, fixed = (_compile_desc(d) for d in (meta.general_desc, meta.mobile, meta.fixed_line))
    if general is None or mobile is None or not general[0]:
        return None
    parts = [f"(?={_whole(general)})"]
    parts += [f"(?!{_whole(desc)})" for name, _kind in _SPECIAL_TYPES
              if (desc := _compile_desc(getattr(meta, name))) is not None]
    if fixed is not None:
        parts.append(f"(?!{_whole(fixed)})")
    parts.append(f"(?={_whole(mobile)})")
    cc = str(meta.country_code)
    shortest, longest = min(general[0]), max(general[0])
    pattern = (rf"(?:\+{cc}|00{cc}|0|(?!{cc}))((?=[1-9]\d{{{shortest - 1},{longest - 1}}}\Z)"
               + "".join(parts) + r"\d+)")
    return re.compile(pattern, re.ASCII), "+" + cc


def mobile_plain(raw: str, country: str) -> str | None:
    """Any country's commonest shape (dz_mobile_plain's, from that country's metadata): a mobile of `country`
    plainly written → its E.164; None: not sure (phonenumbers decides). Property-tested against
    normalize_mobile_plain."""
    found = _plain_mobile_regex(country)
    if found is None:
        return None
    regex, prefix = found
    digits = _without_separators(raw)
    plain = regex.fullmatch(digits)
    if plain is None or (len(digits) != len(raw) and _SIMPLE_PHONE.fullmatch(raw) is None):
        return None
    return prefix + plain.group(1)


@lru_cache(maxsize=256)
def mobile_example(country: str) -> tuple[str, str]:
    """An example mobile of `country`, (national form, international form): what error messages show."""
    number = phonenumbers.example_number_for_type(country, PhoneNumberType.MOBILE)
    if number is None:
        return "", ""
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# ---------------------------------------------------------------- email addresses

# The shapes email-validator accepts and normalises by lower-casing alone: a local part of letters, digits and
# _ + - in dot-separated runs; a domain of letter-digit-hyphen labels under a letter-only top-level domain.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*")
_PLAIN_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_SPECIAL_DOMAINS = frozenset(SPECIAL_USE_DOMAIN_NAMES)

EmailResult = tuple[str | None, str | None]  # (normalized lower-case, None) or (None, library message)


def normalize_email_plain(raw: str) -> EmailResult:
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower(), None
    except EmailNotValidError as exc:
        return None, str(exc)


@lru_cache(maxsize=4096)
def _plain_domain(domain: str) -> bool:
    """A domain email_fast may accept: plain labels, no "--", neither special-use nor under one. A file holds
    few distinct domains, so each is judged once (the part of the check that cost the most per row)."""
    if len(domain) > 253 or "--" in domain or not _PLAIN_DOMAIN.fullmatch(domain):
        return False
    labels = domain.lower().split(".")
    return not any(".".join(labels[i:]) in _SPECIAL_DOMAINS for i in range(len(labels)))


def email_fast(raw: str) -> str | None:
    """A plainly written address, lower-cased (what email-validator gives it); None: ask email-validator."""
    local, at, domain = raw.partition("@")
    if at and len(raw) <= 254 and len(local) <= 64 and _PLAIN_LOCAL.fullmatch(local) and _plain_domain(domain):
        return raw.lower()
    return None


@lru_cache(maxsize=32_768)
def normalize_email(raw: str) -> EmailResult:
    fast = email_fast(raw)
    return (fast, None) if fast is not None else normalize_email_plain(raw)
