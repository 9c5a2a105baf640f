"""At-risk levels over HTTP: the settings on qualifications, cohorts and agreements (bad input refused), a mark
updating that learner's level at once, the at-risk list (filters, paging, roles, another tenant), its exports
read back, and the screen in French and Arabic."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core import clock
from core.models import AttendanceRecord, ClassSession, Cohort, Enrolment, Learner
from tests.attendance_factories import started_open_session

LIST = "/api/institution/at-risk"


@pytest.fixture
def behind(app: Any, sql: Any, demo: dict[str, Any], api: Any, client: Any) -> dict[str, Any]:
    """The demo's first learner absent from two past sessions (written directly) and from today's register
    (marked through the API: the mark refreshes the cohort's levels)."""
    cohort_id = demo["public_cohort_id"]
    enrolment = sql.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id)).first()
    past = sql.scalars(select(ClassSession).where(ClassSession.cohort_id == cohort_id,
                                                  ClassSession.ends_at < clock.now())
                       .order_by(ClassSession.starts_at).limit(2)).all()
    sql.add_all([AttendanceRecord(enrolment_id=enrolment.id, session_id=s.id, record_date=s.session_date,
                                  status="ABSENT") for s in past])
    sql.commit()
    today = started_open_session(sql, cohort_id)
    response = client.post("/api/institution/attendance/mark", headers=api("teacher"),
                           json={"session_id": today, "records": [{"id": enrolment.id, "status": "ABSENT"}]})
    assert response.status_code == 200, response.get_json()
    return {"enrolment_id": enrolment.id, "learner_id": enrolment.learner_id, "cohort_id": cohort_id}


def test_a_mark_updates_that_learners_level_at_once(client: Any, api: Any, behind: dict[str, Any]) -> None:
    detail = client.get(f"/api/institution/cohorts/{behind['cohort_id']}", headers=api("admin")).get_json()
    member = next(m for m in detail["members"] if m["id"] == behind["enrolment_id"])
    # 11 planned (the demo's 10 and today's 07:00), 3 absences: 8 of 11 reachable < 80 % of 11 (8.8).
    assert (member["level"], member["margin"]) == ("cannot_reach", -1)


def test_the_list_has_each_field_smallest_margin_first(client: Any, api: Any, behind: dict[str, Any]) -> None:
    body = client.get(LIST, headers=api("admin")).get_json()
    first = body["items"][0]
    assert {k: first[k] for k in ("enrolment_id", "learner_id", "trainee_id", "cohort_id", "level", "rate",
                                  "required_rate", "best_reachable_rate", "margin", "consecutive_absences",
                                  "excused_counts_as")} == {
        "enrolment_id": behind["enrolment_id"], "learner_id": behind["learner_id"], "trainee_id": None,
        "cohort_id": behind["cohort_id"], "level": "cannot_reach", "rate": 0.0, "required_rate": 80.0,
        "best_reachable_rate": 72.7, "margin": -1, "consecutive_absences": 3, "excused_counts_as": "not_counted"}
    assert [i["margin"] for i in body["items"]] == sorted(i["margin"] for i in body["items"])
    assert first["learner_url"].endswith(f"/admin/learners/{behind['learner_id']}") and first["register_url"]


def test_filters_and_paging(client: Any, api: Any, demo: dict[str, Any], behind: dict[str, Any]) -> None:
    only = client.get(LIST, query_string={"level": "cannot_reach", "cohort": behind["cohort_id"]},
                      headers=api("admin")).get_json()
    assert [i["enrolment_id"] for i in only["items"]] == [behind["enrolment_id"]]
    corporate = client.get(LIST, query_string={"cohort": demo["corporate_cohort_id"], "level": "cannot_reach"},
                           headers=api("admin")).get_json()
    assert corporate["total"] == 0
    paged = client.get(LIST, query_string={"per_page": 1, "page": 2}, headers=api("admin")).get_json()
    assert (paged["per_page"], paged["page"], len(paged["items"])) == (1, 2, 1) and paged["total"] > 1


@pytest.mark.parametrize("args", [{"cohort": 999999}, {"qualification": 999999}, {"organization": 999999},
                                  {"facilitator": 999999}])
def test_an_unknown_id_in_a_filter_is_a_clear_422(client: Any, api: Any, demo: dict[str, Any], args: dict) -> None:
    response = client.get(LIST, query_string=args, headers=api("admin"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_filter"
    assert next(iter(args)) in response.get_json()["error"]["message"]


@pytest.mark.parametrize("args", [{"level": "doomed"}, {"cohort": "x"}, {"cohort": 10**20}, {"per_page": 5000},
                                  {"sort": "name"}])
def test_bad_filters_are_422(client: Any, api: Any, demo: dict[str, Any], args: dict) -> None:
    assert client.get(LIST, query_string=args, headers=api("admin")).status_code == 422


def test_another_tenants_cohort_is_unknown(client: Any, api: Any, johannesburg: dict[str, Any],
                                           behind: dict[str, Any]) -> None:
    response = client.get(LIST, query_string={"cohort": behind["cohort_id"]}, headers=johannesburg["headers"])
    assert response.status_code == 422
    assert client.get(LIST, headers=johannesburg["headers"]).get_json()["total"] == 0


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("support", 200), ("teacher", 200), ("org", 403),
                                              ("regulator", 403), ("learner", 404)])
def test_who_may_read_the_list(client: Any, api: Any, demo: dict[str, Any], role: str, status: int) -> None:
    assert client.get(LIST, headers=api(role)).status_code == status
    assert client.get("/institution/at-risk").status_code in (302, 401)


def test_exports_read_back_with_formulas_neutralized(client: Any, api: Any, sql: Any,
                                                     behind: dict[str, Any]) -> None:
    sql.get(Learner, behind["learner_id"]).full_name = '=HYPERLINK("http://evil.example","x")'
    sql.commit()
    args = {"level": "cannot_reach"}
    xlsx = client.get(f"{LIST}/export.xlsx", query_string=args, headers=api("admin"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("enrolment_id", "learner_id", "trainee_id")
    assert rows[1][0] == behind["enrolment_id"] and rows[1][5].startswith("'=HYPERLINK")
    assert (rows[1][6], rows[1][10], rows[1][13]) == ("cannot_reach", -1, "not_counted")
    csv_text = client.get(f"{LIST}/export.csv", query_string=args, headers=api("admin")).get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "cannot_reach" in csv_text


@pytest.mark.parametrize(("language", "words"), [("fr", ("Stagiaires à risque", "ne peut plus atteindre")),
                                                 ("ar", ("المتدربون المعرضون للخطر", "لا يمكنه بلوغ"))])
def test_the_screen_in_french_and_arabic(login: Any, behind: dict[str, Any], language: str,
                                         words: tuple[str, str]) -> None:
    page = login("admin").get("/institution/at-risk", headers={"Accept-Language": language})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and all(w in text for w in words)


# --------------------------------------------------------------------------- settings (PATCH)

def test_required_rate_and_limit_on_qualification_cohort_and_agreement(client: Any, api: Any,
                                                                        demo: dict[str, Any], sql: Any) -> None:
    cohort = sql.get(Cohort, demo["public_cohort_id"])
    q = client.patch(f"/api/qualifications/{cohort.qualification_id}", headers=api("admin"),
                     json={"required_rate": 75, "absence_limit": 4})
    c = client.patch(f"/api/institution/cohorts/{cohort.id}", headers=api("admin"),
                     json={"required_rate": 90.5, "absence_limit": 2})
    a = client.patch(f"/api/corporate-agreements/{demo['agreement_id']}", headers=api("admin"),
                     json={"required_rate": 85, "absence_limit": 5, "reason": "funder rule"})
    assert (q.get_json()["required_rate"], q.get_json()["absence_limit"]) == (75, 4)
    assert (c.get_json()["required_rate"], c.get_json()["absence_limit"]) == (90.5, 2)
    assert (a.get_json()["required_rate"], a.get_json()["absence_limit"]) == (85, 5)
    back = client.patch(f"/api/institution/cohorts/{cohort.id}", headers=api("admin"), json={"required_rate": None})
    assert back.get_json()["required_rate"] is None  # inherits again


@pytest.mark.parametrize("body", [{"required_rate": 101}, {"required_rate": -0.5}, {"absence_limit": 0},
                                  {"absence_limit": 10**12}, {"required_rate": "high"},
                                  {"required_rate": "8\u00000"}, {"absence_limit": 2.5}])
def test_bad_settings_are_refused_with_a_clear_message(client: Any, api: Any, demo: dict[str, Any],
                                                       body: dict) -> None:
    for url in (f"/api/institution/cohorts/{demo['public_cohort_id']}",
                f"/api/corporate-agreements/{demo['agreement_id']}"):
        response = client.patch(url, headers=api("admin"), json={**body, "reason": "x"} if "agreements" in url
                                else body)
        assert response.status_code in (400, 422), (url, body, response.status_code)
        assert response.get_json()["error"]["message"]


def test_a_huge_number_is_refused(client: Any, api: Any, demo: dict[str, Any]) -> None:
    response = client.patch(f"/api/institution/cohorts/{demo['public_cohort_id']}", headers=api("admin"),
                            data='{"required_rate": 1e400}', content_type="application/json")
    assert response.status_code in (400, 422)


def test_excused_counts_as_on_the_institution(client: Any, api: Any, demo: dict[str, Any]) -> None:
    url = f"/api/institutions/{demo['institution_id']}"
    ok = client.patch(url, headers=api("super"), json={"excused_counts_as": "absent"})
    bad = client.patch(url, headers=api("super"), json={"excused_counts_as": "sometimes"})
    assert (ok.status_code, ok.get_json()["excused_counts_as"], bad.status_code) == (200, "absent", 422)


def test_warning_rules_on_the_institution(client: Any, api: Any, demo: dict[str, Any]) -> None:
    url = f"/api/institutions/{demo['institution_id']}"
    ok = client.patch(url, headers=api("super"), json={"at_risk_rules": {"watch": ["learner"]}})
    bad = client.patch(url, headers=api("super"), json={"at_risk_rules": {"watch": ["the_press"]}})
    assert (ok.status_code, ok.get_json()["at_risk_rules"], bad.status_code) == (200, {"watch": ["learner"]}, 422)
