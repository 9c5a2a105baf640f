"""The cohort page (issue 27, point 16): sessions grouped as upcoming and past, each paged, with a link to the
cohort's registers; pagination never links to page 0 (nor past the last page)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import clock
from tests.attendance_factories import make_session


@pytest.fixture
def many_past(sql, demo):
    """25 more past sessions (17:00–18:00, clear of the demo's slots): 30 past in all, 5 upcoming."""
    cohort = demo["public_cohort_id"]
    today = clock.today_in("Africa/Algiers")
    for days in range(1, 26):
        make_session(sql, cohort, today - dt.timedelta(days=days), dt.time(17), dt.time(18))
    return cohort


def _table(page: str, name: str) -> str:
    return re.search(rf'<table[^>]*data-testid="{name}".*?</table>', page, flags=re.S).group(0)


def _page_links(page: str) -> list[str]:
    return re.findall(r'href="[^"]*[?&](?:amp;)?((?:upcoming|past)_page=-?\d+)', page)


def test_sessions_are_grouped_as_upcoming_and_past(login, demo, many_past):
    page = login("admin").get(f"/institution/attendance/cohorts/{many_past}").get_data(as_text=True)
    upcoming, past = _table(page, "upcoming_page"), _table(page, "past_page")
    assert upcoming.count("<tr>") == 1 + 5 and past.count("<tr>") == 1 + 20  # header + rows; 20 a page
    assert "Upcoming" in page and "(30)" in page
    first_upcoming = re.search(r"<tbody>\s*<tr><td>([^<]+)</td>", upcoming).group(1)
    assert first_upcoming == "Tue 17 Nov 2026"  # soonest first (today's 09:00 has not ended at 10:30)
    assert re.search(r"<tbody>\s*<tr><td>([^<]+)</td>", past).group(1) == "Mon 16 Nov 2026"  # latest first


def test_the_cohort_page_links_to_its_registers(login, many_past):
    page = login("admin").get(f"/institution/attendance/cohorts/{many_past}").get_data(as_text=True)
    assert f'href="/institution/cohorts/{many_past}/registers">Cohort registers</a>' in page


def test_pagination_never_links_to_page_0_or_past_the_end(login, many_past):
    admin = login("admin")
    first = admin.get(f"/institution/attendance/cohorts/{many_past}").get_data(as_text=True)
    assert _page_links(first) == ["past_page=2"]
    second = admin.get(f"/institution/attendance/cohorts/{many_past}?past_page=2").get_data(as_text=True)
    assert _page_links(second) == ["past_page=1"]
    assert _table(second, "past_page").count("<tr>") == 1 + 10
    for wild in ("0", "-3", "999", "x"):
        r = admin.get(f"/institution/attendance/cohorts/{many_past}?past_page={wild}")
        assert r.status_code == 200
        assert all(not link.endswith(("=0", "=-1", "=3")) for link in _page_links(r.get_data(as_text=True)))


def test_no_pager_anywhere_links_to_page_0(login, demo):
    page = login("admin").get("/institution/attendance/cohorts?per_page=1").get_data(as_text=True)
    assert "page=0" not in page and 'rel="next"' in page
