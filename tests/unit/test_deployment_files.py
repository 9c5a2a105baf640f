"""docker-compose.yml and the Procfile describe the same processes (no Docker engine runs here to try them)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_has_every_service_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker-imports", "worker-documents", "worker-default",
            "beat"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["command"] == ["flask", "--app", "web", "db", "upgrade"]
    for name in ("web", "worker-imports", "worker-documents", "worker-default", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert services[name]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


def test_compose_runs_a_worker_per_queue_and_one_beat():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for queue in ("imports", "documents", "default"):
        command = services[f"worker-{queue}"]["command"]
        assert command[command.index("-Q") + 1] == queue
    assert services["beat"]["deploy"]["replicas"] == 1
    assert not any("-B" in s.get("command", []) or "--beat" in s.get("command", []) for s in services.values())


def test_procfile_names_web_a_worker_per_queue_beat_and_release():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert 'gunicorn' in lines["web"] and '"web:create_app()"' in lines["web"]
    for queue in ("imports", "documents", "default"):
        assert f"celery -A workers.celery_app worker -Q {queue} " in lines[f"worker_{queue}"]
    assert "celery -A workers.celery_app beat" in lines["beat"]
    assert "db upgrade" in lines["release"]


def test_every_gunicorn_reads_longer_request_lines_than_the_app_answers():
    """The app refuses a request line over MAX_REQUEST_LINE with a JSON 414 it documents; gunicorn must let
    such a line through (its own refusal is a plain-text page the description cannot promise)."""
    import re

    from web.contract import MAX_REQUEST_LINE

    for name in ("Procfile", "Dockerfile", "docker-compose.yml", "bin/start"):
        text = (ROOT / name).read_text()
        assert "gunicorn" in text, name
        limits = re.findall(r"--limit-request-line\"?,? \"?(\d+)", text)
        assert limits and all(int(limit) > MAX_REQUEST_LINE for limit in limits), name
