"""One log line per request and per task, with duration and ids; JSON lines with LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging

from web.logs import JsonFormatter, TextFormatter


def _records(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_each_request_logs_one_line_with_duration_and_ids(client, api, caplog):
    caplog.set_level(logging.INFO, logger="web.request")
    response = client.get("/api/me", headers={**api("admin"), "X-Request-ID": "req-42"})
    (record,) = _records(caplog, "web.request")
    fields = record.fields
    assert (fields["request_id"], fields["status"], fields["path"]) == ("req-42", 200, "/api/me")
    assert fields["duration_ms"] >= 0 and fields["user_id"] == response.json["id"]
    assert response.headers["X-Request-ID"] == "req-42"


def test_json_format_is_one_object_per_line_with_the_fields(client, caplog):
    caplog.set_level(logging.INFO, logger="web.request")
    client.get("/api/health")
    line = JsonFormatter().format(_records(caplog, "web.request")[0])
    body = json.loads(line)
    assert "\n" not in line and body["level"] == "INFO" and body["path"] == "/api/health"
    assert body["status"] == 200 and "duration_ms" in body and "request_id" in body
    assert TextFormatter("%(message)s").format(_records(caplog, "web.request")[0]).startswith("GET /api/health 200 ")


def test_each_task_logs_one_line_with_duration_and_ids(app, live_worker, caplog):
    from tasks.system import ping

    caplog.set_level(logging.INFO, logger="workers.task")
    with app.app_context():
        result = ping.delay("logged")
        result.get(timeout=30)
    records = [r for r in _records(caplog, "workers.task") if r.fields["task_id"] == result.id]
    assert len(records) == 1
    fields = records[0].fields
    assert (fields["task"], fields["state"], fields["args"]) == ("system.ping", "SUCCESS", ["logged"])
    assert fields["duration_ms"] >= 0
