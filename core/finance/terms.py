"""An agreement's commercial terms (the institution's billing details and defaults: core.finance.billing).

Terms change freely while the agreement is DRAFT; once it is ACTIVE (or later), a change needs a reason and
is kept as a row of its history (agreement_terms_changes) and audited. A currency or tax rate left out takes
the institution's default (its country's currency; its default tax rate, else its country's standard rate).
Which attendance statuses make a billed trainee-day is a term too (`billable_statuses`, default PRESENT and
LATE: only attended days).
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
from core.models import AgreementStatus, AgreementTermsChange, CorporateAgreement, Institution, Organization, Role, User
from core.uow import unit_of_work

from . import money
from .billing import TermDefaults, institution_defaults
from .commands import STATUS_ORDER, UpdateTerms
from .pricing import UPFRONT_MODELS, BillingPlan, PricingModel, Terms

_TERM_FIELDS = ("pricing_model", "unit_price", "currency", "tax_rate", "upfront_percent", "billing_plan",
                "billable_statuses")
ATTENDED = "PRESENT,LATE"


def statuses_of(text: str | None) -> tuple[str, ...]:
    """"PRESENT,LATE" → ("PRESENT", "LATE"); nothing stored: attended days only."""
    return tuple(s for s in (text or ATTENDED).split(",") if s)


def terms_of(agreement: CorporateAgreement, defaults: TermDefaults) -> Terms | None:
    """The agreement's terms, its institution's defaults filling a missing currency or tax rate; None while the
    pricing model or the price is missing (or no default exists for what is missing)."""
    currency = agreement.currency or defaults.currency
    rate = agreement.tax_rate if agreement.tax_rate is not None else defaults.tax_rate
    if None in (agreement.pricing_model, agreement.unit_price, currency, rate):
        return None
    return Terms(PricingModel(agreement.pricing_model), int(agreement.unit_price), str(currency),
                 int(rate), int(agreement.upfront_percent or 0), BillingPlan(agreement.billing_plan),
                 statuses_of(agreement.billable_statuses), defaults.tax_name)


def terms_json(agreement: CorporateAgreement, defaults: TermDefaults) -> dict[str, Any]:
    """The terms as the API shows them: a currency or tax rate the agreement leaves out shows the default it
    takes, and `inherited` names those fields."""
    currency = agreement.currency or defaults.currency
    rate = agreement.tax_rate if agreement.tax_rate is not None else defaults.tax_rate
    inherited = [name for name, own, default in (("currency", agreement.currency, defaults.currency),
                                                 ("tax_rate", agreement.tax_rate, defaults.tax_rate))
                 if own is None and default is not None]
    return {
        "pricing_model": agreement.pricing_model,
        "unit_price": money.format_amount(agreement.unit_price, currency)
        if currency and agreement.unit_price is not None else None,
        "currency": currency,
        "tax_rate": money.format_rate(rate) if rate is not None else None,
        "tax_name": defaults.tax_name,
        "upfront_percent": money.format_rate(agreement.upfront_percent or 0),
        "billing_plan": agreement.billing_plan,
        "billable_statuses": list(statuses_of(agreement.billable_statuses)),
        "inherited": inherited,
        "required_rate": agreement.required_rate,
        "absence_limit": agreement.absence_limit,
    }


def managed_agreement(session: Session, user: User, agreement_id: int, *, lock: bool = False) -> CorporateAgreement:
    stmt = select(CorporateAgreement).join(Organization, Organization.id == CorporateAgreement.organization_id) \
        .where(CorporateAgreement.id == agreement_id)
    if user.role != Role.SUPER_ADMIN:
        stmt = stmt.where(Organization.institution_id == user.institution_id)
    agreement = session.scalar(stmt.with_for_update(of=CorporateAgreement) if lock else stmt)
    if agreement is None or user.role not in (Role.SUPER_ADMIN, Role.ADMIN, Role.SUPPORT):
        raise NotFound(N_("No such agreement."))
    return agreement


def agreement_defaults(session: Session, agreement: CorporateAgreement) -> TermDefaults:
    return institution_defaults(session.scalar(select(Institution).join(
        Organization, Organization.institution_id == Institution.id).where(
        Organization.id == agreement.organization_id)))


def effective_tax_rate(session: Session, agreement: CorporateAgreement) -> int:
    """The rate a hand-made draft line takes: the agreement's, else its institution's default (0 if none)."""
    if agreement.tax_rate is not None:
        return agreement.tax_rate
    return agreement_defaults(session, agreement).tax_rate or 0


def _parsed(agreement: CorporateAgreement, command: UpdateTerms, defaults: TermDefaults) -> dict[str, Any]:
    sent = command.model_dump(exclude_unset=True, exclude={"reason"})
    # The at-risk settings may be emptied (null: inherit the qualification's); the money terms may not.
    standing = {key: sent.pop(key) for key in AT_RISK_FIELDS if key in sent}
    if any(value is None for value in sent.values()):
        raise ValidationError(N_("Terms cannot be emptied: leave a field out to keep its value."),
                              code="terms_emptied")
    named = sent.get("currency") or agreement.currency
    currency = money.normalize_currency(named) if named else defaults.currency
    values: dict[str, Any] = dict(standing)
    if "currency" in sent:
        values["currency"] = currency
    for key in ("pricing_model", "billing_plan"):
        if key in sent:
            values[key] = sent[key]
    if "billable_statuses" in sent:
        chosen = set(sent["billable_statuses"])
        values["billable_statuses"] = ",".join(s for s in STATUS_ORDER if s in chosen)
    if "tax_rate" in sent:
        values["tax_rate"] = money.parse_rate(sent["tax_rate"])
    if "upfront_percent" in sent:
        values["upfront_percent"] = money.parse_rate(sent["upfront_percent"], field="upfront_percent")
    if "unit_price" in sent:
        if currency is None:
            raise ValidationError(N_("Set the currency with the price."), code="currency_missing",
                                  details=[{"field": "currency", "message": "required with unit_price"}])
        values["unit_price"] = money.parse_amount(sent["unit_price"], currency, field="unit_price")
        if agreement.currency is None:  # a price is in one currency: the default it was set in stays with it
            values["currency"] = currency
    elif "currency" in sent and agreement.unit_price is not None and agreement.currency != currency:
        raise ValidationError(N_("Send the price again with a new currency."), code="price_missing",
                              details=[{"field": "unit_price", "message": "required with a new currency"}])
    model = values.get("pricing_model", agreement.pricing_model)
    upfront = values.get("upfront_percent", agreement.upfront_percent or 0)
    if upfront and model and PricingModel(model) not in UPFRONT_MODELS:
        raise ValidationError(N_("An upfront share does not apply to per-enrolled-trainee pricing: the roster is "
                                 "billed at the start already."), code="upfront_not_applicable",
                              details=[{"field": "upfront_percent", "message": "not with per_enrolled_trainee"}])
    return values


def update_terms(session: Session, user: User, agreement_id: int, command: UpdateTerms) -> CorporateAgreement:
    with unit_of_work(session):
        require(session, user, "corporate_finance.manage")
        agreement = managed_agreement(session, user, agreement_id, lock=True)
        defaults = agreement_defaults(session, agreement)
        values = _parsed(agreement, command, defaults)
        before = terms_json(agreement, defaults)
        changed = {k: v for k, v in values.items() if getattr(agreement, k) != v}
        if changed and agreement.status != AgreementStatus.DRAFT and not command.reason:
            raise ValidationError(N_("This agreement is no longer a draft: say why its terms change (reason)."),
                                  code="reason_required", details=[{"field": "reason", "message": "required"}])
        for key, value in changed.items():
            setattr(agreement, key, value)
        if changed:
            after = terms_json(agreement, defaults)
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
