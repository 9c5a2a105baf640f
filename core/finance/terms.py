"""An agreement's commercial terms and an institution's billing details.

Terms change freely while the agreement is DRAFT; once it is ACTIVE (or later), a change needs a reason and
is kept as a row of its history (agreement_terms_changes) and audited.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.at_risk.fields import AT_RISK_FIELDS
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.models import AgreementStatus, AgreementTermsChange, CorporateAgreement, Institution, Role, User
from core.uow import unit_of_work

from . import money
from .commands import UpdateBilling, UpdateTerms
from .pricing import BillingPlan, PricingModel, Terms

_TERM_FIELDS = ("pricing_model", "unit_price", "currency", "tax_rate", "upfront_percent", "billing_plan")


def terms_of(agreement: CorporateAgreement) -> Terms | None:
    """The agreement's terms, or None while any of them is missing."""
    if None in (agreement.pricing_model, agreement.unit_price, agreement.currency, agreement.tax_rate):
        return None
    return Terms(PricingModel(agreement.pricing_model), int(agreement.unit_price), str(agreement.currency),
                 int(agreement.tax_rate), int(agreement.upfront_percent or 0), BillingPlan(agreement.billing_plan))


def terms_json(agreement: CorporateAgreement) -> dict[str, Any]:
    currency = agreement.currency
    return {
        "pricing_model": agreement.pricing_model,
        "unit_price": money.format_amount(agreement.unit_price, currency)
        if currency and agreement.unit_price is not None else None,
        "currency": currency,
        "tax_rate": money.format_rate(agreement.tax_rate) if agreement.tax_rate is not None else None,
        "upfront_percent": money.format_rate(agreement.upfront_percent or 0),
        "billing_plan": agreement.billing_plan,
        "required_rate": agreement.required_rate,
        "absence_limit": agreement.absence_limit,
    }


def managed_agreement(session: Session, user: User, agreement_id: int, *, lock: bool = False) -> CorporateAgreement:
    from core.models import Organization

    stmt = select(CorporateAgreement).join(Organization, Organization.id == CorporateAgreement.organization_id) \
        .where(CorporateAgreement.id == agreement_id)
    if user.role != Role.SUPER_ADMIN:
        stmt = stmt.where(Organization.institution_id == user.institution_id)
    agreement = session.scalar(stmt.with_for_update(of=CorporateAgreement) if lock else stmt)
    if agreement is None or user.role not in (Role.SUPER_ADMIN, Role.ADMIN, Role.SUPPORT):
        raise NotFound(N_("No such agreement."))
    return agreement


def _parsed(agreement: CorporateAgreement, command: UpdateTerms) -> dict[str, Any]:
    sent = command.model_dump(exclude_unset=True, exclude={"reason"})
    # The at-risk settings may be emptied (null: inherit the qualification's); the money terms may not.
    standing = {key: sent.pop(key) for key in AT_RISK_FIELDS if key in sent}
    if any(value is None for value in sent.values()):
        raise ValidationError(N_("Terms cannot be emptied: leave a field out to keep its value."),
                              code="terms_emptied")
    currency = money.normalize_currency(sent.get("currency") or agreement.currency or "") \
        if (sent.get("currency") or agreement.currency) else None
    values: dict[str, Any] = dict(standing)
    if "currency" in sent:
        values["currency"] = currency
    if "pricing_model" in sent:
        values["pricing_model"] = sent["pricing_model"]
    if "billing_plan" in sent:
        values["billing_plan"] = sent["billing_plan"]
    if "tax_rate" in sent:
        values["tax_rate"] = money.parse_rate(sent["tax_rate"])
    if "upfront_percent" in sent:
        values["upfront_percent"] = money.parse_rate(sent["upfront_percent"], field="upfront_percent")
    if "unit_price" in sent:
        if currency is None:
            raise ValidationError(N_("Set the currency with the price."), code="currency_missing",
                                  details=[{"field": "currency", "message": "required with unit_price"}])
        values["unit_price"] = money.parse_amount(sent["unit_price"], currency, field="unit_price")
    elif "currency" in sent and agreement.unit_price is not None and agreement.currency != currency:
        raise ValidationError(N_("Send the price again with a new currency."), code="price_missing",
                              details=[{"field": "unit_price", "message": "required with a new currency"}])
    return values


def update_terms(session: Session, user: User, agreement_id: int, command: UpdateTerms) -> CorporateAgreement:
    with unit_of_work(session):
        require(session, user, "corporate_finance.manage")
        agreement = managed_agreement(session, user, agreement_id, lock=True)
        values = _parsed(agreement, command)
        before = terms_json(agreement)
        changed = {k: v for k, v in values.items() if getattr(agreement, k) != v}
        if changed and agreement.status != AgreementStatus.DRAFT and not command.reason:
            raise ValidationError(N_("This agreement is no longer a draft: say why its terms change (reason)."),
                                  code="reason_required", details=[{"field": "reason", "message": "required"}])
        for key, value in changed.items():
            setattr(agreement, key, value)
        if changed:
            after = terms_json(agreement)
            session.flush()
            if agreement.status != AgreementStatus.DRAFT:
                session.add(AgreementTermsChange(agreement_id=agreement.id, changed_by_id=user.id,
                                                 changed_at=clock.now(), reason=command.reason or "",
                                                 before=json.dumps(before), after=json.dumps(after)))
            audit.record(session, actor_id=user.id, action="agreement.terms", entity_type="corporate_agreement",
                         entity_id=agreement.id, before=before, after=after,
                         context={"reason": command.reason} if command.reason else None)
    return agreement


def terms_history(session: Session, agreement_id: int) -> list[AgreementTermsChange]:
    return list(session.scalars(select(AgreementTermsChange).where(AgreementTermsChange.agreement_id == agreement_id)
                                .order_by(AgreementTermsChange.id)))


def billing_json(inst: Institution) -> dict[str, Any]:
    return {"id": inst.id, "name": inst.name, "legal_name": inst.legal_name, "tax_number": inst.tax_number,
            "billing_address": inst.billing_address, "invoice_prefix": inst.invoice_prefix,
            "payment_terms_days": inst.payment_terms_days, "bank_details": inst.bank_details,
            "default_tax_rate": money.format_rate(inst.default_tax_rate) if inst.default_tax_rate is not None
            else None}


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


def managed_institution(session: Session, user: User, institution_id: int) -> Institution:
    inst = session.get(Institution, institution_id)
    if inst is None or (user.role != Role.SUPER_ADMIN and inst.id != user.institution_id):
        raise NotFound(N_("No such institution."))
    return inst


def update_billing(session: Session, user: User, institution_id: int, command: UpdateBilling) -> Institution:
    with unit_of_work(session):
        require(session, user, "corporate_finance.manage")
        inst = managed_institution(session, user, institution_id)
        sent = command.model_dump(exclude_unset=True)
        before = billing_json(inst)
        for key, value in sent.items():
            if key == "default_tax_rate":
                value = money.parse_rate(value, field=key) if value is not None else None
            elif key in ("invoice_prefix", "payment_terms_days") and value is None:
                raise ValidationError(N_("%(field)s cannot be emptied."), code="field_emptied", params={"field": key})
            elif key == "invoice_prefix":
                value = value.upper()
            setattr(inst, key, value)
        session.flush()
        audit.record(session, actor_id=user.id, action="institution.billing", entity_type="institution",
                     entity_id=inst.id, before=before, after=billing_json(inst))
    return inst
