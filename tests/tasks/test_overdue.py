"""The nightly overdue run (a real worker, a real SMTP server): issued invoices past their due date become
overdue, the organization's contact is mailed once, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from core import clock
from core.models import Institution, Organization
from tasks.finance import mark_overdue
from tests.finance_factories import mark_all, priced_cohort

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


def test_overdue_invoices_are_marked_and_their_organization_mailed_once(app, live_worker, smtp, client, api, sql,
                                                                        demo):
    sql.execute(update(Institution).values(payment_terms_days=0))
    sql.execute(update(Organization).where(Organization.id == demo["organization_id"])
                .values(contact_email="accounts@acme.example"))
    sql.commit()
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    headers = api("admin")
    draft = client.post("/api/invoices", headers=headers, json={"cohort_id": cohort["cohort_id"], **PERIOD})
    invoice = client.post(f"/api/invoices/{draft.get_json()['id']}/issue", headers=headers, json={}).get_json()
    assert invoice["due_on"] == "2026-11-17"
    with app.app_context():
        assert mark_overdue.delay().get(timeout=60)["marked"] == 0  # due today: not overdue yet
        with clock.pinned_at(clock.now() + dt.timedelta(days=1)):
            first = mark_overdue.delay().get(timeout=60)
            second = mark_overdue.delay().get(timeout=60)
    assert (first["marked"], first["mailed"]) == (1, 1)
    assert (second["marked"], second["mailed"]) == (0, 0)
    assert client.get(f"/api/invoices/{invoice['id']}", headers=headers).get_json()["status"] == "overdue"
    mails = smtp.to("accounts@acme.example")
    assert len(mails) == 1 and invoice["number"] in mails[0]["Subject"]
