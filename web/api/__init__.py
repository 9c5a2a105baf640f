"""JSON API basics: health, who am I, and a worker round-trip check. Feature APIs live in their blueprints."""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult
from flask import Blueprint, current_app, jsonify, url_for
from sqlalchemy import text

from core import clock, jobs
from tasks.system import ping

from ..auth import public, requires, signed_in, user
from ..extensions import db
from ..queue import queue_depths

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/health")
@public
def health() -> Any:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/health/ready")
@public
def health_ready() -> Any:
    """Readiness: database, broker, a worker seen recently (heartbeat table), age of the oldest queued job."""
    checks = readiness_checks()
    unhealthy = [name for name, check in checks.items() if not check["ok"]]
    return jsonify(status="ok" if not unhealthy else "unhealthy", unhealthy=unhealthy, checks=checks), \
        200 if not unhealthy else 503


def readiness_checks() -> dict[str, dict[str, Any]]:
    config = current_app.config
    checks: dict[str, dict[str, Any]] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        db.session.rollback()
        checks["database"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
    try:
        depths = queue_depths(jobs.QUEUES)
        checks["broker"] = {"ok": True, "messages_waiting": depths}
    except Exception as exc:
        checks["broker"] = {"ok": False, "error": str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}
    if not checks["database"]["ok"]:
        return checks
    live = jobs.live_workers(db.session)
    uncovered = [q for q in jobs.QUEUES if not any(q in w.queues.split(",") for w in live)]
    checks["workers"] = {"ok": bool(live) and not uncovered, "live": [
        {"hostname": w.hostname, "queues": w.queues.split(","), "seen_seconds_ago": round(
            (clock.now() - w.seen_at).total_seconds(), 1)} for w in live], "queues_without_worker": uncovered}
    ages = jobs.oldest_queued(db.session)
    limit = config["READY_MAX_QUEUE_AGE"]
    checks["queue"] = {"ok": all(age <= limit for age in ages.values()), "max_age_seconds": limit,
                       "oldest_queued_seconds": {q: round(age, 1) for q, age in ages.items()}}
    return checks


@bp.get("/me")
@signed_in
def me() -> Any:
    u = user()
    return jsonify(id=u.id, email=u.email, full_name=u.full_name, role=u.role.value,
                   institution_id=u.institution_id, organization_ids=u.organization_ids)


@bp.post("/system/ping")
@requires("users.manage")
def system_ping() -> Any:
    """Send a no-op task through the broker: proves a worker is consuming."""
    result = ping.delay("api")
    return jsonify(id=result.id, status="PENDING",
                   status_url=url_for("api.system_task", task_id=result.id, _external=False)), 202


@bp.get("/system/tasks/<task_id>")
@requires("users.manage")
def system_task(task_id: str) -> Any:
    result = AsyncResult(task_id)
    body: dict[str, Any] = {"id": task_id, "status": result.status}
    if result.successful():
        body["result"] = result.result
    return jsonify(body)
