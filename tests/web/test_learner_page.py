"""A learner's page and staff search (issue 27 point 17): enrolments across cohorts with each rate, attendance
history, documents; found by name (accents and case ignored), ID number, phone (however typed) or email."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.models import Cohort, DocumentFormat, DocumentKind, DocumentStatus, Enrolment, Learner, RegisterDocument
from tests.attendance_factories import make_session
from tests.registers_factories import mark


@pytest.fixture
def zahra(client, api):
    r = client.post("/api/learners", headers=api("admin"), json={
        "full_name": "Zahra Ébrahim-Idrïs", "id_number": "8001015009087", "email": "zahra.i@example.com",
        "phone": "0550 12 34 56"})
    assert r.status_code == 201, r.json
    return r.json["id"]


@pytest.mark.parametrize("q", ["ebrahim", "EBRAHIM-IDRIS", "idrïs", "8001015009087", "0550 12 34 56", "550123456",
                               "+213 550 12 34 56", "zahra.i@example", "ZAHRA.I@EXAMPLE.COM"])
def test_staff_find_a_learner_by_name_id_number_phone_or_email(client, api, zahra, q):
    found = client.get("/api/learners", query_string={"q": q}, headers=api("admin")).json["items"]
    assert zahra in [learner["id"] for learner in found]


def test_the_learners_screen_searches_the_same_way(login, zahra):
    assert "Ébrahim-Idrïs" in login("admin").get("/admin/learners?q=EBRAHIM").get_data(as_text=True)


def test_a_learners_page_shows_enrolments_with_rates_history_and_documents(client, api, login, demo, sql, zahra):
    h = api("admin")
    q = client.get("/api/qualifications", headers=h).json["items"][0]
    cohorts = [client.post("/api/institution/cohorts", headers=h, json={
        "name": name, "qualification_id": q["id"], "start_date": "2026-03-02", "end_date": "2026-06-30"}).json["id"]
        for name in ("Welding — Intake 7", "Forklift — Intake 2")]
    enrolments = [client.post(f"/api/institution/cohorts/{c}/enrolments", headers=h, json={
        "learner_ids": [zahra], "enrolled_on": "2026-03-02"}).json["enrolled"][0]["id"] for c in cohorts]
    for day, status in ((dt.date(2026, 3, 3), "PRESENT"), (dt.date(2026, 3, 4), "ABSENT")):
        mark(sql, make_session(sql, cohorts[0], day), day, {enrolments[0]: (status, None, None)})
    sql.add(RegisterDocument(institution_id=demo["institution_id"], cohort_id=cohorts[0], kind=DocumentKind.COHORT,
                             format=DocumentFormat.PDF, status=DocumentStatus.READY, language="en",
                             period_start=dt.date(2026, 3, 2), period_end=dt.date(2026, 3, 6)))
    sql.commit()
    page = login("admin").get(f"/admin/learners/{zahra}").get_data(as_text=True)
    assert "Welding — Intake 7" in page and "Forklift — Intake 2" in page
    assert "50%" in page and "(1/2)" in page  # the Welding rate
    assert 'id="history-h"' in page and "Absent" in page and "Present" in page
    assert 'id="documents-h"' in page and "/institution/registers/" in page


def test_a_teacher_sees_only_their_cohorts_on_a_learners_page(login, demo, sql):
    learner = sql.scalars(select(Learner.id).join(Enrolment, Enrolment.learner_id == Learner.id)
                          .where(Enrolment.cohort_id == demo["public_cohort_id"])).first()
    other = Cohort(institution_id=demo["institution_id"], name="Secret cohort", cohort_type="public")
    sql.add(other)
    sql.flush()
    sql.add(Enrolment(learner_id=learner, cohort_id=other.id))
    sql.commit()
    page = login("teacher").get(f"/admin/learners/{learner}").get_data(as_text=True)
    assert "Welding — Intake 1" in page and "Secret cohort" not in page
