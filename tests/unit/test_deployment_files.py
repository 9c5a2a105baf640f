"""docker-compose.yml and the Procfile describe the same processes (no Docker engine runs here to try them)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_has_every_service_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["command"] == ["flask", "--app", "web", "db", "upgrade"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert services[name]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


def test_procfile_names_web_worker_beat_and_release():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert 'gunicorn' in lines["web"] and '"web:create_app()"' in lines["web"]
    assert "celery -A workers.celery_app worker" in lines["worker"]
    assert "celery -A workers.celery_app beat" in lines["beat"]
    assert "db upgrade" in lines["release"]
