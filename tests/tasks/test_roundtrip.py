"""A task goes through the real broker to a real worker and back, and enqueueing waits for commit."""

from __future__ import annotations

import time

from tasks.system import ping


def test_ping_round_trip_through_a_real_worker(app, live_worker):
    with app.app_context():
        assert ping.delay("hello").get(timeout=30) == {"pong": "hello", "db": True}


def test_api_ping_reports_success(app, live_worker, client, api):
    headers = api("admin")
    started = client.post("/api/system/ping", headers=headers)
    assert started.status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.get(started.json["status_url"], headers=headers).json
        if status["status"] == "SUCCESS":
            break
        time.sleep(0.1)
    assert status["result"] == {"pong": "api", "db": True}
