"""Levels where people look: the cohort page, the learner's page, the org portal (with its grant only), and the
cohort's forecast chart (server-side SVG)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from core import clock
from core.at_risk import service
from core.models import ClassSession, CorporateAttendanceRecord, CorporateTrainee, OrganizationGrant
from tests.web.test_at_risk import behind  # noqa: F401  (the fixture)


def test_the_cohort_page_shows_each_learners_level_and_margin(login: Any, behind: dict[str, Any]) -> None:  # noqa: F811
    page = login("admin").get(f"/institution/attendance/cohorts/{behind['cohort_id']}").get_data(as_text=True)
    assert 'data-level="cannot_reach"' in page and "margin -1" in page
    assert f"/institution/cohorts/{behind['cohort_id']}/forecast.svg" in page


def test_the_learners_page_shows_the_level(login: Any, behind: dict[str, Any]) -> None:  # noqa: F811
    page = login("admin").get(f"/admin/learners/{behind['learner_id']}").get_data(as_text=True)
    assert 'data-level="cannot_reach"' in page


def _corporate_absences(sql: Any, demo: dict[str, Any]) -> int:
    trainee = sql.scalars(select(CorporateTrainee.id).where(CorporateTrainee.cohort_id == demo["corporate_cohort_id"])
                          .order_by(CorporateTrainee.id)).first()
    past = sql.scalars(select(ClassSession.id).where(ClassSession.cohort_id == demo["corporate_cohort_id"],
                                                     ClassSession.ends_at < clock.now())).all()
    sql.add_all([CorporateAttendanceRecord(trainee_id=trainee, session_id=s, status="ABSENT") for s in past])
    sql.commit()
    service.recompute(sql)
    return trainee


def test_the_org_portal_shows_its_own_trainees_levels_with_its_grant(client: Any, api: Any, sql: Any,
                                                                     demo: dict[str, Any]) -> None:
    trainee = _corporate_absences(sql, demo)
    body = client.get(f"/api/org/programs/{demo['corporate_cohort_id']}", headers=api("org")).get_json()
    mine = next(t for t in body["trainees"] if t["trainee_id"] == trainee)
    assert mine["level"] == "cannot_reach" and mine["margin"] < 0
    sql.execute(delete(OrganizationGrant).where(OrganizationGrant.permission == "corporate_reports.view"))
    sql.commit()
    without = client.get(f"/api/org/programs/{demo['corporate_cohort_id']}", headers=api("org")).get_json()
    assert without["trainees"] is None


def test_the_forecast_chart_is_svg_with_the_required_rate(client: Any, api: Any, sql: Any,
                                                          demo: dict[str, Any]) -> None:
    _corporate_absences(sql, demo)
    response = client.get(f"/institution/cohorts/{demo['corporate_cohort_id']}/forecast.svg", headers=api("admin"))
    svg = response.get_data(as_text=True)
    assert response.mimetype == "image/svg+xml" and svg.startswith("<svg")
    assert "Required 80%" in svg and 'stroke-dasharray="6 4"' in svg and "<circle" in svg


def test_the_forecast_of_another_tenants_cohort_is_404(client: Any, johannesburg: dict[str, Any],
                                                       demo: dict[str, Any]) -> None:
    response = client.get(f"/institution/cohorts/{demo['public_cohort_id']}/forecast.svg",
                          headers=johannesburg["headers"])
    assert response.status_code == 404
