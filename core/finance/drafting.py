"""Drafting invoices from locked registers, for one cohort or many at once (set-based).

A draft reads **locked registers only** (the lock rule: core.attendance.locking) and bills, per register, what
it counts now minus what issued invoices of the cohort already billed on it: an issued invoice never changes,
and a register unlocked, corrected and locked again shows its difference on the next draft. Each line keeps the
registers it rests on and what each contributed.

Many cohorts (a month's billing run) cost a fixed number of statements, whatever their number: the cohorts, their
agreements, the period's sessions, the trainee-days per register, the enrolled counts and what was billed are
each one query; the drafts and their lines are two multi-row inserts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import cohort_filter, require
from core.attendance.locking import lock_state
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    AttendanceStatus,
    ClassSession,
    Cohort,
    CohortType,
    CorporateAgreement,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Institution,
    Invoice,
    InvoiceLine,
    SessionStatus,
    User,
)
from core.uow import unit_of_work

from . import money, pricing
from .billing import defaults_by_institution
from .commands import CreateDrafts, CreateInvoice
from .pricing import ADVANCE_DEDUCTION, UPFRONT, DraftLine, PricingModel, RegisterCount
from .terms import terms_of

DRAFT = "draft"
BILLED = ("issued", "partly_paid", "paid", "credited", "overdue")


class UnlockedSessions(Conflict):
    code = "registers_not_locked"


@dataclass(frozen=True)
class _Cohort:
    id: int
    institution_id: int
    organization_id: int
    agreement_id: int
    start_date: dt.date | None
    end_date: dt.date | None
    expected_trainees: int


def _cohorts(session: Session, user: User, ids: list[int]) -> list[_Cohort]:
    rows = session.execute(select(Cohort.id, Cohort.institution_id, Cohort.organization_id, Cohort.agreement_id,
                                  Cohort.start_date, Cohort.end_date, Cohort.cohort_type,
                                  Cohort.expected_trainee_count)
                           .where(Cohort.id.in_(ids), cohort_filter(user))).all()
    found = {r.id: r for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(N_("No such cohort, or it is not one you can see."), details={"cohort_ids": missing[:50]})
    if any(r.cohort_type != CohortType.CORPORATE or r.agreement_id is None for r in rows):
        raise ValidationError(N_("Only a corporate cohort can be invoiced."), code="not_corporate")
    return [_Cohort(r.id, r.institution_id, r.organization_id, r.agreement_id, r.start_date, r.end_date,
                    r.expected_trainee_count or 0) for r in (found[i] for i in ids)]


def _check_period(cohort: _Cohort, start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValidationError(N_("The period ends before it starts."), code="period_backwards")
    if (cohort.start_date and end < cohort.start_date) or (cohort.end_date and start > cohort.end_date):
        raise ValidationError(N_("The period is outside the cohort's dates."), code="period_outside_cohort",
                              details={"cohort_id": cohort.id})


def _locked_sessions(session: Session, cohorts: list[_Cohort], start: dt.date, end: dt.date, grace_hours: int,
                     skip_unlocked: bool) -> dict[int, list[int]]:
    """Per cohort, its locked registers in the period; unlocked ones are a 409 naming each unless skipped."""
    zones = dict(session.execute(select(Institution.id, Institution.time_zone).where(
        Institution.id.in_({c.institution_id for c in cohorts}))).all())
    rows = session.execute(select(ClassSession.id, ClassSession.cohort_id, ClassSession.institution_id,
                                  ClassSession.session_date, ClassSession.ends_at, ClassSession.is_locked,
                                  ClassSession.locked_at, ClassSession.relock_after)
                           .where(ClassSession.cohort_id.in_([c.id for c in cohorts]),
                                  ClassSession.session_date >= start, ClassSession.session_date <= end,
                                  ClassSession.status != SessionStatus.CANCELLED)
                           .order_by(ClassSession.starts_at, ClassSession.id)).all()
    locked: dict[int, list[int]] = defaultdict(list)
    unlocked = []
    for row in rows:
        state = lock_state(row, zones.get(row.institution_id) or "UTC", grace_hours)  # type: ignore[arg-type]
        if state.locked:
            locked[row.cohort_id].append(row.id)
        else:
            unlocked.append({"cohort_id": row.cohort_id, "session_id": row.id, "date": row.session_date.isoformat(),
                             "locks_at": state.cutoff.isoformat()})
    if unlocked and not skip_unlocked:
        raise UnlockedSessions(
            N_("%(count)s register(s) in this period are not locked yet; wait until they lock, or bill the "
               "locked ones only (skip_unlocked)."), params={"count": len(unlocked)}, details=unlocked[:500])
    return locked


def _trainee_days(session: Session, session_ids: list[int], statuses: tuple[str, ...]) -> dict[int, int]:
    """Per register, the trainee-days it counts: a trainee with a billable status (the terms': by default
    present or late) on a day counts once that day, on the day's first locked register with such a mark."""
    if not session_ids:
        return {}
    firsts = (select(CorporateAttendanceRecord.trainee_id, ClassSession.session_date,
                     func.min(ClassSession.id).label("session_id"))
              .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
              .where(CorporateAttendanceRecord.session_id.in_(session_ids),
                     CorporateAttendanceRecord.status.in_([AttendanceStatus(s) for s in statuses]))
              .group_by(CorporateAttendanceRecord.trainee_id, ClassSession.session_date).subquery())
    return dict(session.execute(select(firsts.c.session_id, func.count()).group_by(firsts.c.session_id)).all())


def _enrolled(session: Session, cohort_ids: list[int]) -> dict[int, int]:
    if not cohort_ids:
        return {}
    return dict(session.execute(select(CorporateTrainee.cohort_id, func.count()).where(
        CorporateTrainee.cohort_id.in_(cohort_ids), CorporateTrainee.active.is_(True))
        .group_by(CorporateTrainee.cohort_id)).all())


@dataclass
class _Billed:
    """What issued invoices of a cohort already billed: per register, the fixed parts' keys, the advance left."""

    per_register: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    keys: set[str] = field(default_factory=set)
    advance_left: int = 0


def _already_billed(session: Session, cohort_ids: list[int]) -> dict[int, _Billed]:
    billed: dict[int, _Billed] = defaultdict(_Billed)
    rows = session.execute(select(Invoice.cohort_id, InvoiceLine.registers, InvoiceLine.period_key,
                                  InvoiceLine.counts, InvoiceLine.amount).join(
        Invoice, Invoice.id == InvoiceLine.invoice_id).where(Invoice.cohort_id.in_(cohort_ids),
                                                             Invoice.status.in_(BILLED)))
    for cohort_id, registers, key, counts, amount in rows:
        done = billed[cohort_id]
        for session_id, quantity in json.loads(registers or "[]"):
            done.per_register[int(session_id)] += int(quantity)
        if key:
            done.keys.add(key)
        if counts in (UPFRONT, ADVANCE_DEDUCTION):  # deductions are negative: what is left of the advance
            done.advance_left += int(amount)
    return billed


def _expected_totals(session: Session, cohorts: list[_Cohort], terms: dict[int, pricing.Terms]) -> dict[int, int]:
    """Per cohort whose upfront share is still to bill, the expected usage total (the billing schedule's), from
    its planned sessions in one query."""
    if not cohorts:
        return {}
    planned: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    rows = session.execute(select(ClassSession.id, ClassSession.cohort_id, ClassSession.session_date)
                           .where(ClassSession.cohort_id.in_([c.id for c in cohorts]),
                                  ClassSession.status != SessionStatus.CANCELLED).order_by(ClassSession.session_date))
    for sid, cohort_id, day in rows:
        planned[cohort_id].append((day, sid))
    totals = {}
    for c in cohorts:
        days = planned[c.id]
        start = c.start_date or (days[0][0] if days else dt.date.min)
        end = max(c.end_date or (days[-1][0] if days else start), start)
        totals[c.id] = sum(line.amount for line in pricing.usage_schedule(terms[c.id], start, end, days,
                                                                          c.expected_trainees))
    return totals


def _lines(cohort: _Cohort, terms: pricing.Terms, start: dt.date, end: dt.date, locked: list[int],
           usage: dict[int, int], billed: _Billed, expected_total: int) -> list[DraftLine]:
    if terms.pricing_model == PricingModel.FIXED:
        first = cohort.start_date or start
        return pricing.fixed_lines(terms, first, max(cohort.end_date or end, first), start, end, billed.keys)
    counts = [RegisterCount(sid, max(usage.get(sid, 0) - billed.per_register.get(sid, 0), 0)) for sid in locked]
    line = pricing.usage_line(terms, counts)
    advance = pricing.advance_lines(terms, cohort.start_date or start, end, expected_total, line,
                                    UPFRONT in billed.keys, billed.advance_left)
    return ([line] if line else []) + advance


def line_rows(invoice_id: int, lines: list[DraftLine], reason: str | None = None) -> list[dict[str, Any]]:
    return [{"invoice_id": invoice_id, "position": i, "counts": line.counts, "description": line.description,
             "quantity": line.quantity, "unit_price": line.unit_price, "tax_rate": line.tax_rate,
             "amount": line.amount, "tax": line.tax, "period_key": line.period_key,
             "registers": json.dumps([[r.session_id, r.quantity] for r in line.registers]), "reason": reason}
            for i, line in enumerate(lines)]


def totals_of(lines: list[DraftLine]) -> tuple[int, int, int]:
    subtotal, tax, total = money.totals([(line.amount, line.tax_rate) for line in lines])
    if abs(total) > money.MAX_MINOR:
        raise ValidationError(N_("The invoice's total is too large."), code="amount_too_large")
    return subtotal, tax, total


def _usage(session: Session, cohorts: list[_Cohort], terms: dict[int, pricing.Terms],
           locked: dict[int, list[int]]) -> dict[int, dict[int, int]]:
    """Per cohort, per register, what its pricing model counts: trainee-days (one query per distinct set of
    billable statuses, usually one), one per delivered session, or the roster (register id 0)."""
    usage: dict[int, dict[int, int]] = {}
    by_statuses: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for c in cohorts:
        t = terms[c.id]
        if t.pricing_model == PricingModel.PER_ATTENDED_TRAINEE_DAY:
            by_statuses[t.billable_statuses].extend(locked.get(c.id, []))
        elif t.pricing_model == PricingModel.PER_DELIVERED_SESSION:
            usage[c.id] = dict.fromkeys(locked.get(c.id, []), 1)
        else:
            usage[c.id] = {}
    days: dict[int, int] = {}
    for statuses, session_ids in by_statuses.items():
        days.update(_trainee_days(session, session_ids, statuses))
    enrolled = _enrolled(session, [c.id for c in cohorts
                                   if terms[c.id].pricing_model == PricingModel.PER_ENROLLED_TRAINEE])
    for c in cohorts:
        model = terms[c.id].pricing_model
        if model == PricingModel.PER_ATTENDED_TRAINEE_DAY:
            usage[c.id] = days
        elif model == PricingModel.PER_ENROLLED_TRAINEE:
            usage[c.id] = {0: enrolled.get(c.id, 0)}  # the roster, not a register (id 0)
    return usage


def create_drafts(session: Session, user: User, command: CreateDrafts, *, grace_hours: int) -> list[int]:
    """A DRAFT per cohort for the period, from its locked registers, in one transaction (all or none)."""
    start, end = command.period_from, command.period_to
    with unit_of_work(session):
        require(session, user, "corporate_finance.manage")
        cohorts = _cohorts(session, user, list(dict.fromkeys(command.cohort_ids)))
        for cohort in cohorts:
            _check_period(cohort, start, end)
        agreements = {a.id: a for a in session.scalars(select(CorporateAgreement).where(
            CorporateAgreement.id.in_({c.agreement_id for c in cohorts})))}
        defaults = defaults_by_institution(session, {c.institution_id for c in cohorts})
        institution_of = {c.agreement_id: c.institution_id for c in cohorts}
        terms = {a_id: terms_of(a, defaults[institution_of[a_id]]) for a_id, a in agreements.items()}
        if any(terms.get(c.agreement_id) is None for c in cohorts):
            raise ValidationError(N_("Set the agreement's terms (pricing model, price, currency, tax rate) first."),
                                  code="terms_missing")
        locked = _locked_sessions(session, cohorts, start, end, grace_hours, command.skip_unlocked)
        by_cohort = {c.id: t for c in cohorts if (t := terms[c.agreement_id]) is not None}
        usage = _usage(session, cohorts, by_cohort, locked)
        billed = _already_billed(session, [c.id for c in cohorts])
        expected = _expected_totals(session, [c for c in cohorts if by_cohort[c.id].takes_advance
                                              and UPFRONT not in billed[c.id].keys], by_cohort)
        languages = dict(session.execute(select(Institution.id, Institution.default_language).where(
            Institution.id.in_({c.institution_id for c in cohorts}))).all())
        drafts = []
        for cohort in cohorts:
            t = by_cohort[cohort.id]
            ids = [0] if t.pricing_model == PricingModel.PER_ENROLLED_TRAINEE else locked.get(cohort.id, [])
            drafts.append((cohort, t, _lines(cohort, t, start, end, ids, usage[cohort.id], billed[cohort.id],
                                             expected.get(cohort.id, 0))))
        values = []
        for cohort, t, lines in drafts:
            subtotal, tax, total = totals_of(lines)
            statuses = ",".join(t.billable_statuses) if t.pricing_model == PricingModel.PER_ATTENDED_TRAINEE_DAY \
                else None
            values.append({"institution_id": cohort.institution_id, "organization_id": cohort.organization_id,
                           "agreement_id": cohort.agreement_id, "cohort_id": cohort.id, "status": DRAFT,
                           "period_from": start, "period_to": end, "currency": t.currency, "subtotal": subtotal,
                           "tax": tax, "total": total, "paid": 0, "credited": 0, "billed_statuses": statuses,
                           "language": languages.get(cohort.institution_id) or "en", "created_by_id": user.id})
        invoice_ids = list(session.scalars(insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True),
                                           values))
        rows = [row for invoice_id, (_c, _t, lines) in zip(invoice_ids, drafts, strict=True)
                for row in line_rows(invoice_id, lines)]
        if rows:
            session.execute(insert(InvoiceLine), rows)
        audit.record_many(session, [{"actor_id": user.id, "action": "invoice.draft", "entity_type": "invoice",
                                     "institution_id": v["institution_id"], "entity_id": invoice_id,
                                     "after": {"cohort_id": v["cohort_id"], "period": [str(start), str(end)],
                                               "total": v["total"]}}
                                    for invoice_id, v in zip(invoice_ids, values, strict=True)])
    return invoice_ids


def create_draft(session: Session, user: User, command: CreateInvoice, *, grace_hours: int) -> Invoice:
    """One cohort's DRAFT (create_drafts for one). Unlocked registers in the period: 409 naming each (with the
    moment the lock rule will lock it), unless `skip_unlocked`, which bills the locked ones only."""
    with unit_of_work(session):  # read back in the same transaction: no second one left open after it
        [invoice_id] = create_drafts(session, user, CreateDrafts(
            cohort_ids=[command.cohort_id], period_from=command.period_from, period_to=command.period_to,
            skip_unlocked=command.skip_unlocked), grace_hours=grace_hours)
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
    return invoice
