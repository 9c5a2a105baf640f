"""An institution's billing details, and the defaults its country gives to terms that leave them out.

Billing details (legal name, tax number, address, invoice prefix, payment terms, bank details, default tax
rate) change through `PATCH /api/institutions/<id>` (with the institution's other settings) or
`PATCH /api/institutions/<id>/billing`: both call `apply_billing` in their one transaction.

Defaults: an agreement without a currency bills in the institution's country's currency (ZA → ZAR, DZ → DZD);
without a tax rate, at the institution's default tax rate, else the country's standard rate (ZA VAT 15 %,
DZ TVA 19 %). The country's figures live in core.institutions.countries, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import require
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.institutions.countries import currency_for_country, standard_tax
from core.models import Institution, Role, User
from core.uow import unit_of_work

from . import money
from .commands import UpdateBilling

BILLING_FIELDS = tuple(UpdateBilling.model_fields)


@dataclass(frozen=True)
class TermDefaults:
    """What an agreement of this institution falls back to: currency, tax rate (hundredths of a %), tax name."""

    currency: str | None
    tax_rate: int | None
    tax_name: str | None


def defaults_for(country: str | None, default_tax_rate: int | None) -> TermDefaults:
    tax = standard_tax(country or "")
    currency = currency_for_country(country) if country else None
    known = currency if currency and currency in money.known_currencies() else None
    rate = default_tax_rate if default_tax_rate is not None else (tax[1] if tax else None)
    return TermDefaults(known, rate, tax[0] if tax else None)


def institution_defaults(inst: Institution | None) -> TermDefaults:
    if inst is None:
        return TermDefaults(None, None, None)
    return defaults_for(inst.country, inst.default_tax_rate)


def defaults_by_institution(session: Session, institution_ids: set[int]) -> dict[int, TermDefaults]:
    """Each institution's defaults, in one query (a billing run spans many cohorts, often one institution)."""
    rows = session.execute(select(Institution.id, Institution.country, Institution.default_tax_rate)
                           .where(Institution.id.in_(institution_ids or {-1}))).all()
    return {row.id: defaults_for(row.country, row.default_tax_rate) for row in rows}


def billing_json(inst: Institution) -> dict[str, Any]:
    defaults = institution_defaults(inst)
    return {"id": inst.id, "name": inst.name, "legal_name": inst.legal_name, "tax_number": inst.tax_number,
            "billing_address": inst.billing_address, "invoice_prefix": inst.invoice_prefix,
            "payment_terms_days": inst.payment_terms_days, "bank_details": inst.bank_details,
            "default_tax_rate": money.format_rate(inst.default_tax_rate) if inst.default_tax_rate is not None
            else None,
            "default_currency": defaults.currency,
            "effective_tax_rate": money.format_rate(defaults.tax_rate) if defaults.tax_rate is not None else None,
            "tax_name": defaults.tax_name}


def managed_institution(session: Session, user: User, institution_id: int) -> Institution:
    """The institution if `user` may see its billing: a super admin any, staff their own (else 404)."""
    inst = session.get(Institution, institution_id)
    if inst is None or (user.role != Role.SUPER_ADMIN and inst.id != user.institution_id):
        raise NotFound(N_("No such institution."))
    return inst


def billing_institution(session: Session, user: User, institution_id: int | None) -> Institution:
    """The institution whose billing details a screen shows: the one asked for, else the user's own (a super
    admin without one: the first)."""
    if institution_id:
        return managed_institution(session, user, institution_id)
    if user.institution_id:
        return managed_institution(session, user, user.institution_id)
    first = session.scalar(select(Institution).order_by(Institution.id).limit(1))
    if first is None or user.role != Role.SUPER_ADMIN:
        raise NotFound(N_("No such institution."))
    return first


def apply_billing(session: Session, user: User, inst: Institution, sent: dict[str, Any]) -> None:
    """Set the billing fields sent (already checked by UpdateBilling), in the caller's transaction, audited."""
    require(session, user, "corporate_finance.manage")
    before = billing_json(inst)
    for key, value in sent.items():
        if key == "default_tax_rate":
            value = money.parse_rate(value, field=key) if value is not None else None
        elif key in ("invoice_prefix", "payment_terms_days") and value is None:
            raise ValidationError(N_("%(field)s cannot be emptied."), code="field_emptied", params={"field": key},
                                  details=[{"field": key, "message": "cannot be emptied"}])
        elif key == "invoice_prefix":
            value = value.upper()
        setattr(inst, key, value)
    session.flush()
    audit.record(session, actor_id=user.id, action="institution.billing", entity_type="institution",
                 entity_id=inst.id, before=before, after=billing_json(inst))


def update_billing(session: Session, user: User, institution_id: int, command: UpdateBilling) -> Institution:
    with unit_of_work(session):
        require(session, user, "corporate_finance.manage")
        inst = managed_institution(session, user, institution_id)
        apply_billing(session, user, inst, command.model_dump(exclude_unset=True))
    return inst
