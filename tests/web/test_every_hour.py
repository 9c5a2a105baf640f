"""The time-dependent paths at stated instants spread over the day, in Algiers and Johannesburg (no DST) and in
Paris (after each DST change), and the cut-off across midnight and across a DST night (issue 26).

The demo is built at each instant (its sessions on the weekdays around that day: the public cohort 09:00–12:00,
the corporate one 13:00–16:00, five weekdays before today and five from today on, all taught by `teacher`).
Every case runs on a Tuesday, so yesterday is a Monday with sessions and the weekday before it is Friday. The
clock runs on from each instant: a case at 12:00 sees 12:00 and a few milliseconds, after the 09:00–12:00
session ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import clock
from core.attendance.locking import lock_past_sessions
from core.models import ClassSession, ReminderSent
from core.reminders.service import plan_unmarked_reminders
from tests.attendance_factories import make_session, members

MARK = "/api/institution/attendance/mark"
TUESDAYS = {"Africa/Algiers": dt.date(2026, 11, 17), "Africa/Johannesburg": dt.date(2026, 11, 17),
            # Paris: the Tuesday after clocks went back (25 October) and after they went forward (29 March).
            "Europe/Paris": dt.date(2026, 10, 27), "Europe/Paris@spring": dt.date(2026, 3, 31)}


@dataclass(frozen=True)
class Expected:
    """What the rules give on a Tuesday at `at`, derived from the demo's timetable (see the module docstring)."""
    at: dt.time
    held: int            # public sessions ended: five weekdays before today, and today's once 12:00 has passed
    future_corporate: int  # corporate sessions not started: today's 13:00 while it is ahead, and four more
    due_reminders: int   # ended and still open: yesterday's two, and today's as each ends (12:00, 16:00)
    today_started: bool  # today's 09:00 session has started (PRESENT is accepted)


HOURS = [Expected(dt.time(0, 5), 5, 5, 2, False), Expected(dt.time(6, 0), 5, 5, 2, False),
         Expected(dt.time(12, 0), 6, 5, 3, True), Expected(dt.time(18, 55), 6, 4, 4, True),
         Expected(dt.time(23, 5), 6, 4, 4, True)]


@dataclass(frozen=True)
class Instant:
    zone: str
    local: dt.datetime
    expected: Expected


CASES = [Instant(key.split("@")[0], dt.datetime.combine(day, e.at, tzinfo=ZoneInfo(key.split("@")[0])), e)
         for key, day in TUESDAYS.items() for e in HOURS]


@pytest.fixture(params=CASES, ids=[f"{c.zone}-{c.local:%Y%m%d-%H%M}" for c in CASES])
def instant(request: pytest.FixtureRequest) -> Any:
    with clock.pinned_at(request.param.local):
        yield request.param


@pytest.fixture
def demo_zone(instant: Instant) -> str:
    return instant.zone


def _public_session(sql: Any, demo: dict[str, Any], day: dt.date) -> int:
    return sql.scalar(select(ClassSession.id).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                    ClassSession.session_date == day))


def _mark(client: Any, headers: dict[str, str], session_id: int, learner: int, status: str = "PRESENT") -> Any:
    return client.post(MARK, headers=headers, json={"session_id": session_id,
                                                    "records": [{"enrolment_id": learner, "status": status}]})


def test_cohort_progress_counts_what_has_ended(instant, client, api, demo):
    items = {c["id"]: c for c in client.get("/api/institution/cohorts", headers=api("admin")).json["items"]}
    public = items[demo["public_cohort_id"]]
    assert (public["sessions_planned"], public["sessions_held"]) == (10, instant.expected.held)


def test_cancelling_a_cohort_cancels_the_sessions_not_started(instant, client, api, demo):
    r = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/cancel", headers=api("admin"))
    assert r.status_code == 200 and r.json["sessions_cancelled"] == instant.expected.future_corporate


def test_reminders_list_the_ended_registers_still_open(instant, sql, demo):
    plan_unmarked_reminders(sql)
    assert sql.scalar(select(func.count()).select_from(ReminderSent)) == instant.expected.due_reminders


def test_the_lock_rule_and_the_nightly_sweep_agree(instant, client, api, sql, demo):
    """Yesterday's register is open all day (cut-off: the end of today); Friday's has locked; today's takes
    PRESENT once it has started and EXCUSED at any time."""
    today = instant.local.date()
    headers, learner = api("teacher"), members(sql, demo["public_cohort_id"])[0]
    yesterday, friday, now = (_public_session(sql, demo, today - dt.timedelta(days=n)) for n in (1, 4, 0))
    assert len(lock_past_sessions(sql)) == 8  # four weekdays before yesterday, two cohorts
    assert _mark(client, headers, yesterday, learner).status_code == 200
    refused = _mark(client, headers, friday, learner)
    assert refused.status_code == 423 and refused.json["error"]["code"] == "session_locked"
    early = _mark(client, headers, now, learner)
    assert early.status_code == (200 if instant.expected.today_started else 422)
    assert _mark(client, headers, now, learner, "EXCUSED").status_code == 200
    register = client.get(f"/api/institution/class-sessions/{yesterday}", headers=headers).json
    cutoff = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=ZoneInfo(instant.zone))
    assert dt.datetime.fromisoformat(register["session"]["auto_lock_at"]) == cutoff


def test_the_register_screen_says_which_registers_are_locked(instant, login, sql, demo):
    today = instant.local.date()
    teacher = login("teacher")
    yesterday = teacher.get(f"/institution/attendance/sessions/{_public_session(sql, demo, today - dt.timedelta(1))}")
    friday = teacher.get(f"/institution/attendance/sessions/{_public_session(sql, demo, today - dt.timedelta(4))}")
    assert yesterday.status_code == friday.status_code == 200
    assert b'id="locked-banner"' not in yesterday.data and b'id="lock-note"' in yesterday.data
    assert b'id="locked-banner"' in friday.data


# A Saturday session's cut-off: the end of its local day plus 24 hours. Across midnight in a zone without DST it
# comes at midnight; on the night clocks go back the 25-hour Sunday makes it 23:00, and on the night they go
# forward, 01:00 on Monday.
CUTOFFS = [("Africa/Algiers", dt.date(2026, 11, 14), dt.datetime(2026, 11, 16, 0, 0)),
           ("Africa/Johannesburg", dt.date(2026, 11, 14), dt.datetime(2026, 11, 16, 0, 0)),
           ("Europe/Paris", dt.date(2026, 10, 24), dt.datetime(2026, 10, 25, 23, 0)),
           ("Europe/Paris", dt.date(2026, 3, 28), dt.datetime(2026, 3, 30, 1, 0))]


@pytest.mark.parametrize(("demo_zone", "saturday", "locks_at"), CUTOFFS,
                         ids=[f"{z}-{d:%Y%m%d}" for z, d, _ in CUTOFFS])
def test_a_register_locks_at_its_cut_off_as_the_clock_runs_past_it(demo_zone, saturday, locks_at, client, api,
                                                                    sql, demo):
    sid = make_session(sql, demo["public_cohort_id"], saturday, dt.time(10), dt.time(11))
    cutoff = locks_at.replace(tzinfo=ZoneInfo(demo_zone))
    headers, learner = api("teacher"), members(sql, demo["public_cohort_id"])[0]
    with clock.pinned_at(cutoff - dt.timedelta(minutes=5)):
        assert _mark(client, headers, sid, learner).status_code == 200
        assert sid not in lock_past_sessions(sql)
    with clock.pinned_at(cutoff + dt.timedelta(minutes=5)):
        assert _mark(client, headers, sid, learner, "ABSENT").status_code == 423
        assert sid in lock_past_sessions(sql)


def test_a_learner_today_and_apologies_follow_the_local_day(instant, client, api, sql, demo):
    """/me's sessions start on the institution's today; an apology for today's 09:00 session is taken until it
    starts, and refused from then on (issue 21)."""
    headers = api("learner")
    today = instant.local.date()
    sessions = client.get("/api/me/sessions", headers=headers).json["items"]
    assert sessions and sessions[0]["date"] == today.isoformat()
    sent = client.post("/api/me/apologies", json={"session_ids": [_public_session(sql, demo, today)],
                                                  "reason": "Doctor"}, headers=headers)
    assert sent.status_code == (422 if instant.expected.today_started else 201), sent.json
