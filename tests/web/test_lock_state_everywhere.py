"""One lock state everywhere (issue 27, point 6): the regulator's cohort page, the organization portal, the
register, the calendar and the facilitator's console show the same locked or open state for a session,
the lock rule's (core.attendance.marking.locked_now): by hand, or past its cut-off unless an unlock with a later
`relock_after` is in force, whether or not the nightly job recorded it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel import dates
from sqlalchemy import update

from core import clock
from core.models import ClassSession
from tests.attendance_factories import make_session, started_open_session
from tests.registers_factories import past_session

REASON = "Quarterly audit of attendance registers for the client"


@pytest.fixture
def sessions(sql, demo):
    """Sessions of the corporate cohort (the one the organization portal shows), each in a known state."""
    cohort = demo["corporate_cohort_id"]
    teacher = demo["users"]["teacher"]
    past_by_rule, _ = past_session(sql, cohort, days_ago=3, hour=17)     # past its cut-off, never locked by hand
    today_open = started_open_session(sql, cohort, instructor_id=teacher)  # started today: open
    reopened, _ = past_session(sql, cohort, days_ago=2, hour=17)          # past, but unlocked until tomorrow
    sql.execute(update(ClassSession).where(ClassSession.id == reopened)
                .values(relock_after=clock.now() + dt.timedelta(days=1)))
    upcoming = make_session(sql, cohort, clock.today_in("Africa/Algiers") + dt.timedelta(days=2), dt.time(17),
                            dt.time(18), instructor_id=teacher, is_locked=True)  # locked by hand ahead of time
    sql.execute(update(ClassSession).where(ClassSession.id.in_([past_by_rule, reopened]))
                .values(instructor_id=teacher))
    sql.commit()
    return {past_by_rule: True, today_open: False, reopened: False, upcoming: True}


def _row_lock(html: str, marker: str) -> str:
    """The data-lock value of the table row that holds `marker` (a link or an attribute naming the session)."""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if marker in row:
            found = re.search(r'data-lock="(\w+)"', row)
            assert found, row
            return found.group(1)
    raise AssertionError(f"no row with {marker}")


def _regulator_grant(client, api, demo) -> None:
    made = client.post("/api/access-requests", headers=api("regulator"), json={
        "institution_id": demo["institution_id"], "scope": "institution", "cohort_ids": [], "reason": REASON})
    assert made.status_code == 201, made.get_json()
    until = (clock.now() + dt.timedelta(days=7)).isoformat()
    assert client.post(f"/api/access-requests/{made.get_json()['id']}/approve", headers=api("admin"),
                       json={"expires_at": until}).status_code == 200


def test_the_five_places_show_the_same_lock_state(sql, demo, sessions, client, api, login):
    _regulator_grant(client, api, demo)
    cohort = demo["corporate_cohort_id"]
    regulator = login("regulator").get(f"/regulator/cohorts/{cohort}").get_data(as_text=True)
    portal = login("org").get(f"/org/programs/{cohort}").get_data(as_text=True)
    console = login("teacher").get("/teacher").get_data(as_text=True)
    today = clock.today_in("Africa/Algiers")
    calendar = client.get("/api/institution/attendance/calendar", headers=api("admin"), query_string={
        "start": (today - dt.timedelta(days=7)).isoformat(), "end": (today + dt.timedelta(days=7)).isoformat(),
        "cohort": cohort}).get_json()
    by_calendar = {e["id"]: e["locked"] for e in calendar["items"]}
    admin = login("admin")
    for session_id, locked in sessions.items():
        word = "locked" if locked else "open"
        register = admin.get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
        assert ('id="locked-banner"' in register) is locked, session_id
        assert by_calendar[session_id] is locked, session_id
        assert _row_lock(regulator, f"/institution/attendance/sessions/{session_id}\"") == word, session_id
        day = sql.get(ClassSession, session_id).session_date
        assert _portal_lock(portal, day) == word, session_id
        assert _row_lock(console, f"/institution/attendance/sessions/{session_id}\"") == word, session_id


def _portal_lock(html: str, day: dt.date) -> str:
    """The portal names sessions by date and time: ours are the only 17:00 or 07:00 ones on their day."""
    locks = set()
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if ("17:00" in row or "07:00" in row) and _portal_day(day) in row:
            locks.add(re.search(r'data-lock="(\w+)"', row).group(1))
    assert len(locks) == 1, (day, locks)
    return locks.pop()


def _portal_day(day: dt.date) -> str:
    return dates.format_date(day, "EEE d MMM y", locale="en")
