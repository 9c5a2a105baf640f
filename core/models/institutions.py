"""The tenant (training provider) and what belongs to it: qualifications, rooms, holidays."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped


def _country_of_zone(context: Any) -> str:
    """An institution inserted without a country gets its time zone's (core.institutions.countries)."""
    from core.institutions.countries import country_for_zone

    zone = context.get_current_parameters().get("time_zone") or "Africa/Algiers"
    return country_for_zone(zone) or "DZ"


class Institution(Timestamped, Base):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Africa/Algiers")
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default=text("'en'"))
    # ISO 3166-1 alpha-2: decides how phones are read and which public holidays apply.
    # Inserted by SQL that names none (older scripts): DZ, the rule phones were read by before countries.
    country: Mapped[str] = mapped_column(String(2), default=_country_of_zone, server_default=text("'DZ'"))
    # e.g. a QCTO or ministry provider number
    accreditation_number: Mapped[str | None] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # The information officer (POPIA) or data-protection officer (Algeria, law 18-07): on verify pages and exports.
    information_officer_name: Mapped[str | None] = mapped_column(String(200))
    information_officer_email: Mapped[str | None] = mapped_column(String(254))
    # Billing details (issue 23): printed on invoices and credit notes.
    legal_name: Mapped[str | None] = mapped_column(String(200))
    tax_number: Mapped[str | None] = mapped_column(String(60))
    billing_address: Mapped[str | None] = mapped_column(Text)
    invoice_prefix: Mapped[str] = mapped_column(String(12), default="INV", server_default=text("'INV'"))
    payment_terms_days: Mapped[int] = mapped_column(default=30, server_default=text("30"))
    bank_details: Mapped[str | None] = mapped_column(Text)
    default_tax_rate: Mapped[int | None]
    # How EXCUSED counts in attendance rates (issue 24): "attended", "not_counted" or "absent".
    excused_counts_as: Mapped[str] = mapped_column(String(12), default="not_counted",
                                                   server_default=text("'not_counted'"))
    # Who hears of each at-risk level ({"watch": ["learner"], …}); NULL: core.at_risk.rules.DEFAULT_RULES.
    at_risk_rules: Mapped[dict[str, Any] | None]


class Qualification(Timestamped, Base):
    __tablename__ = "qualifications"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(40))  # NQF level or the provider's own
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # At-risk (issue 24): required attendance (percent) and consecutive-absence limit; NULL: the global setting.
    required_rate: Mapped[float | None] = mapped_column(Float)
    absence_limit: Mapped[int | None]


class Room(Timestamped, Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    capacity: Mapped[int | None]
    location: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class Holiday(Timestamped, Base):
    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("institution_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    date: Mapped[dt.date]
    name: Mapped[str] = mapped_column(String(120))
