"""Breach reminders: an incident not yet notified reminds the institution's admins at 72 hours and, in Algeria,
at 5 days, each once, in their language (a real worker, real SMTP)."""

from __future__ import annotations

import datetime as dt

from core import clock
from tasks.personal_data import send_breach_reminders


def test_an_unnotified_incident_reminds_admins_at_72_hours_and_5_days_once_each(app, live_worker, smtp, client, api,
                                                                               demo):
    found = clock.now() - dt.timedelta(hours=1)
    made = client.post("/api/institution/breaches", headers=api("admin"), json={
        "found_at": found.isoformat(), "description": "A laptop with a register export was stolen",
        "data_categories": ["names", "attendance"], "cohort_ids": [demo["public_cohort_id"]]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["affected_count"] >= 1 and body["affected"]["learners"]
    assert [d["hours"] for d in body["deadlines"]] == [72, 120]  # the demo institution is Algerian
    with app.app_context():
        assert send_breach_reminders.delay().get(timeout=60) == 0
        with clock.pinned_at(clock.now() + dt.timedelta(hours=72)):
            at_72 = send_breach_reminders.delay().get(timeout=60)
            again = send_breach_reminders.delay().get(timeout=60)
        with clock.pinned_at(clock.now() + dt.timedelta(days=5)):
            at_5_days = send_breach_reminders.delay().get(timeout=60)
    assert (at_72, again, at_5_days) == (1, 0, 1)
    mails = smtp.to("admin@demo.example")
    assert len(mails) == 2 and "72" in mails[0]["Subject"] and "120" in mails[1]["Subject"]
    listed = client.get("/api/institution/breaches", headers=api("admin")).get_json()["items"][0]
    assert all(d["reminded"] for d in listed["deadlines"])
