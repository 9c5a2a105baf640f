"""Times in the institution's zone, written the page's language's way (issue 27, point 7): an access grant's
expiry, document and submission times, and the register history (its page gives the zone to the script)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from core import clock
from core.models import User
from tests.registers_factories import past_session

JOBURG = "Africa/Johannesburg"


@pytest.fixture
def demo_zone() -> str:
    return JOBURG


def _approve_until(client, api, login, demo, day: dt.date) -> None:
    made = client.post("/api/access-requests", headers=api("regulator"), json={
        "institution_id": demo["institution_id"], "scope": "institution", "cohort_ids": [],
        "reason": "Annual audit of attendance registers"}).get_json()
    done = login("admin").post(f"/admin/access-requests/{made['id']}/approve",
                               data={"expires_on": day.isoformat()})
    assert done.status_code == 302


def test_an_access_grant_ends_at_the_institutions_local_time_on_every_page(client, api, login, demo):
    day = clock.today_in(JOBURG) + dt.timedelta(days=10)
    _approve_until(client, api, login, demo, day)
    shown = f"{day:%b} {day.day}, {day.year} 23:59"  # 23:59 in Johannesburg (21:59 UTC)
    admin_page = login("admin").get("/admin/access-requests").get_data(as_text=True)
    regulator_page = login("regulator").get("/regulator").get_data(as_text=True)
    for page in (admin_page, regulator_page):
        assert f'<bdi dir="ltr">{shown}</bdi>' in page
        assert "21:59" not in page and " UTC" not in page


def test_times_follow_the_pages_language(client, api, login, demo, sql):
    day = clock.today_in(JOBURG) + dt.timedelta(days=10)
    _approve_until(client, api, login, demo, day)
    sql.execute(update(User).where(User.id == demo["users"]["admin"]).values(language="fr"))
    sql.commit()
    page = login("admin").get("/admin/access-requests").get_data(as_text=True)
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    assert f'<bdi dir="ltr">{day.day} {months[day.month - 1]} {day.year} 23:59</bdi>' in page


def test_the_register_gives_its_history_the_institutions_zone(login, demo, sql):
    session_id, _day = past_session(sql, demo["public_cohort_id"])
    page = login("admin").get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
    assert f'data-zone="{JOBURG}"' in page
