"""Typed commands for institutions and qualifications; web/, the CLI and tests build them."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field

from core.at_risk.fields import AbsenceLimit, ExcusedCountsAs, RequiredRate, WarningRules
from core.fields import Command, Id, Language, Name, PageQuery, SearchText
from core.finance.commands import UpdateBilling
from core.i18n import LANGUAGES as LANGUAGES  # web/institutions reads it from here
from core.input_fields import OptionalEmail, blank_to_none, bounded, kept
from core.institutions.countries import normalize_country

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")


def _time_zone(value: str) -> str:
    if "/" not in value and value != "UTC":
        raise ValueError("use an IANA time zone such as Africa/Algiers or Africa/Johannesburg")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone; use an IANA name such as Africa/Algiers") from None
    return value


def _slug(value: str) -> str:
    value = value.lower()
    if not SLUG.fullmatch(value):
        raise ValueError("use lower-case letters, digits and hyphens (e.g. cape-skills)")
    return value


CountryCode = Annotated[str, Field(min_length=2, max_length=2, examples=["ZA", "DZ"],
                                   description="ISO 3166-1 alpha-2; decides phones and public holidays."),
                        AfterValidator(normalize_country)]
OptionalCountry = Annotated[CountryCode | None, BeforeValidator(blank_to_none)]
TimeZoneName = Annotated[str, Field(max_length=64, examples=["Africa/Algiers"]), AfterValidator(_time_zone)]
Slug = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_slug)]
Code = Annotated[str, Field(min_length=1, max_length=40)]
Reference = bounded(80)
Address = bounded(2000)
PersonName = bounded(200)
PhoneText = bounded(40)
Level = bounded(40)


class InstitutionFields(Command):
    accreditation_number: Reference = Field(None, description="e.g. a QCTO or ministry provider number")
    address: Address = None
    contact_name: PersonName = None
    contact_email: OptionalEmail = None
    contact_phone: PhoneText = None
    information_officer_name: PersonName = Field(None, description="The information officer (POPIA) or "
                                                 "data-protection officer (law 18-07): on verify pages and exports.")
    information_officer_email: OptionalEmail = None


class CreateInstitution(InstitutionFields):
    name: Name = Field(max_length=200)
    slug: Slug
    time_zone: TimeZoneName
    country: OptionalCountry = Field(None, description="Derived from the time zone when omitted "
                                               "(Africa/Johannesburg → ZA, Africa/Algiers → DZ).")
    default_language: Language = "en"


class UpdateInstitution(InstitutionFields, UpdateBilling):
    """Only the keys sent are changed. The billing fields (UpdateBilling: legal name, tax number, address, invoice
    prefix, payment terms, bank details, default tax rate) are the institution's own admin's to change too; the
    others are super admins'."""

    name: kept(Name) = Field(None, max_length=200)
    slug: kept(Slug) = None
    time_zone: kept(TimeZoneName) = None
    country: kept(CountryCode) = None
    default_language: kept(Language) = None
    excused_counts_as: kept(ExcusedCountsAs) = Field(None, description="How EXCUSED counts in attendance rates: "
                                                     "attended, not_counted (the default) or absent.")
    at_risk_rules: WarningRules | None = Field(None, description="null: the default rules.")


class InstitutionQuery(PageQuery):
    q: SearchText = ""


class CreateQualification(Command):
    code: Code
    title: Name = Field(max_length=200)
    level: Level = Field(None, description="NQF level or the provider's own")
    active: bool = True
    institution_id: Id | None = Field(None, description="super_admin only; otherwise your institution")


class UpdateQualification(Command):
    code: kept(Code) = None
    title: kept(Name) = Field(None, max_length=200)
    level: Level = None
    active: kept(bool) = None
    required_rate: RequiredRate | None = None
    absence_limit: AbsenceLimit | None = None


class QualificationQuery(PageQuery):
    q: SearchText = ""
    active: bool | None = None
