"""The nightly overdue run (a real worker, a real SMTP server): issued invoices past their due date become
overdue, the organization's contact is mailed once, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header

from sqlalchemy import update

from core import clock
from core.models import Institution, Organization
from tasks.finance import mark_overdue
from tests.finance_factories import mark_all, priced_cohort
from tests.mailbox import mail_text

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


def _overdue_mail(app, smtp, client, api, sql, demo, contact: str, language: str) -> str:
    sql.execute(update(Institution).values(payment_terms_days=0))
    sql.execute(update(Organization).where(Organization.id == demo["organization_id"]).values(contact_email=contact))
    sql.commit()
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    headers = api("admin")
    draft = client.post("/api/invoices", headers=headers, json={"cohort_id": cohort["cohort_id"], **PERIOD})
    client.post(f"/api/invoices/{draft.get_json()['id']}/issue", headers=headers, json={"language": language})
    with app.app_context(), clock.pinned_at(clock.now() + dt.timedelta(days=1)):
        assert mark_overdue.delay().get(timeout=60)["mailed"] == 1
    [message] = smtp.to(contact)
    return str(make_header(decode_header(message["Subject"]))) + "\n" + mail_text(message)


def test_the_overdue_mail_speaks_the_language_the_invoice_was_issued_in(app, live_worker, smtp, client, api, sql,
                                                                       demo):
    text = _overdue_mail(app, smtp, client, api, sql, demo, "compta@acme.example", "fr")
    assert "La facture" in text and "en retard" in text and "Solde" in text
    assert "17 novembre 2026" in text and "15\u202f870,00" in text  # French dates and money


def test_the_overdue_mail_speaks_the_contacts_own_language(app, live_worker, smtp, client, api, sql, demo):
    from core.models import User

    sql.execute(update(User).where(User.id == demo["users"]["org"]).values(language="ar"))
    sql.commit()
    contact = sql.get(User, demo["users"]["org"]).email
    text = _overdue_mail(app, smtp, client, api, sql, demo, contact, "en")  # their own choice wins
    assert "فاتورة" in text and "الرصيد" in text
