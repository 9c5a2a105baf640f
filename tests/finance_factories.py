"""Builders for finance tests: a corporate cohort of the demo organization with priced terms, trainees and
sessions on chosen days (the suite's instant is Tuesday 17 November 2026, 10:30 in Algiers: sessions up to the
15th are past their cut-off, hence locked; the 16th's is not yet)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.models import CorporateAgreement, Organization, OrganizationGrant, OrgMembership, Role
from tests.attendance_factories import make_session
from tests.portal_factories import add_user, corporate_cohort, mark, trainees

NOV = [dt.date(2026, 11, d) for d in (10, 11, 12, 13)]


def priced_cohort(sql: Any, demo: dict[str, Any], *, model: str = "per_attended_trainee_day",
                  price: int = 86250, currency: str | None = "ZAR", rate: int | None = 1500, name: str = "Billed",
                  people: int = 4, days: list[dt.date] = NOV, organization_id: int | None = None,
                  institution_id: int | None = None) -> dict[str, Any]:
    """A cohort with `people` trainees and one session on each of `days` (08:00–09:00), no marks yet. A
    currency or rate of None leaves it to the institution's defaults."""
    org = organization_id or demo["organization_id"]
    cohort_id = corporate_cohort(sql, institution_id or demo["institution_id"], org, name,
                                 [f"Person {i}" for i in range(people)], sessions=0)
    agreement = sql.scalar(select(CorporateAgreement).where(CorporateAgreement.reference == f"REF-{name}"))
    agreement.pricing_model, agreement.unit_price, agreement.currency = model, price, currency
    agreement.tax_rate = rate
    sql.commit()
    sessions = [make_session(sql, cohort_id, day, dt.time(8), dt.time(9)) for day in days]
    return {"cohort_id": cohort_id, "agreement_id": agreement.id, "sessions": sessions,
            "trainees": [t.id for t in trainees(sql, cohort_id)]}


def mark_all(sql: Any, cohort: dict[str, Any], status: str = "PRESENT", sessions: list[int] | None = None) -> None:
    mark(sql, sessions or cohort["sessions"], dict.fromkeys(cohort["trainees"], status))


def grant_finance(sql: Any, organization_id: int) -> None:
    sql.add(OrganizationGrant(organization_id=organization_id, permission="corporate_finance.view"))
    sql.commit()


def other_organization_member(sql: Any, institution_id: int) -> dict[str, Any]:
    org = Organization(institution_id=institution_id, name="Initech", contact_email="ap@initech.example")
    sql.add(org)
    sql.commit()
    member = add_user(sql, "initech@demo.example", Role.ORG_MEMBER, "Ines Initech")
    sql.add(OrgMembership(organization_id=org.id, user_id=member.id))
    sql.commit()
    return {"organization_id": org.id, "member_id": member.id}


def token_headers(app: Any, user_id: int) -> dict[str, str]:
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User
    from web.extensions import db

    with app.app_context():
        token = create_api_token(db.session, db.session.get(User, user_id), CreateApiToken(name="test"))
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}
