"""A large plan goes to a real worker through the real broker: 202, a status URL, progress, then the sessions."""

from __future__ import annotations

import time


def _wait(client, url: str, headers: dict, deadline_s: float = 60) -> dict:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        run = client.get(url, headers=headers).json
        if run["status"] in ("SUCCEEDED", "FAILED"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run still {run['status']} after {deadline_s}s")


def test_large_plan_runs_on_the_worker(app, live_worker, client, demo, api):
    admin = api("admin")
    app.config["SCHEDULE_INLINE_LIMIT"] = 20
    try:
        room = client.post("/api/rooms", json={"name": "Big hall"}, headers=admin).json["id"]
        plan = {"start_date": "2031-01-06", "end_date": "2031-02-28", "weekdays": [0, 1, 2, 3, 4],
                "slots": [{"start": "08:00", "end": "10:00", "room_id": room},
                          {"start": "10:30", "end": "12:30", "session_type": "PRACTICAL", "room_id": room}],
                "use_public_holidays": False}  # Algeria's Eid al-Fitr (estimated) falls on Fri 24 Jan 2031
        started = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/schedule", json=plan,
                              headers=admin)
        assert started.status_code == 202, started.json
        # The job is sent once the request commits: a quick worker may already have started it.
        assert started.json["status"] in ("PENDING", "RUNNING") and started.json["planned_count"] == 80
        run = _wait(client, started.json["status_url"], admin)
        assert (run["status"], run["created_count"], run["progress"]) == ("SUCCEEDED", 80, 100)
        again = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/schedule", json=plan,
                            headers=admin)
        rerun = _wait(client, again.json["status_url"], admin)
        assert (rerun["created_count"], rerun["already_scheduled_count"]) == (0, 80)
    finally:
        app.config["SCHEDULE_INLINE_LIMIT"] = 1000


def test_run_page_shows_a_progress_bar(app, live_worker, login, client, demo, api):
    from core.models import User
    from core.scheduling.commands import SchedulePlan
    from core.scheduling.runs import start_run
    from web.extensions import db

    with app.app_context():
        admin = db.session.get(User, demo["users"]["admin"])
        run = start_run(db.session, admin, demo["public_cohort_id"], SchedulePlan.model_validate({
            "start_date": "2031-01-06", "end_date": "2031-01-06", "slots": [{"start": "08:00", "end": "09:00"}]}))
        run_id = run.id
    page = login("admin").get(f"/admin/schedule-runs/{run_id}")
    assert page.status_code == 200 and b'<progress' in page.data and b"data-status-url" in page.data
