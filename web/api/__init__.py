"""JSON API basics: health, who am I, a worker round-trip check, and the API's own description.

Feature APIs live in their blueprints; every one declares its contract with `web.contract.contract`.
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from celery.result import AsyncResult
from flask import Blueprint, current_app, jsonify, render_template, send_from_directory, url_for
from sqlalchemy import text

from core import clock, jobs
from tasks.broker import queue_depths
from tasks.system import ping

from ..auth import public, requires, signed_in, user
from ..contract import Accepted, contract, openapi_document, responds
from ..extensions import db
from .schemas import Health, Me, Ready, TaskStatus

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
@public
def openapi() -> Any:
    """This description (OpenAPI 3.1)."""
    return jsonify(openapi_document())


@bp.get("/docs")
@public
def docs() -> Any:
    """The API documentation page."""
    return render_template("api/docs.html")


@bp.get("/docs/assets/<path:filename>")
@public
def docs_asset(filename: str) -> Any:
    """Swagger UI from the installed package (no CDN: sites may run offline)."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


@bp.get("/health")
@public
@contract(resp=responds(HTTP_200=Health), security={})
def health() -> Any:
    """Liveness: the web process answers."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/health/ready")
@public
@contract(resp=responds(HTTP_200=Ready, HTTP_503=Ready), security={})
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
@contract(resp=responds(HTTP_200=Me))
def me() -> Any:
    """Who you are signed in as: your account, roles and permissions."""
    u = user()
    return jsonify(id=u.id, email=u.email, full_name=u.full_name, role=u.role.value,
                   institution_id=u.institution_id, organization_ids=u.organization_ids)


@bp.post("/system/ping")
@requires("users.manage")
@contract(resp=responds(HTTP_202=Accepted))
def system_ping() -> Any:
    """Send a no-op task through the broker: proves a worker is consuming."""
    result = ping.delay("api")
    return jsonify(id=result.id, status="PENDING",
                   status_url=url_for("api.system_task", task_id=result.id, _external=False)), 202


@bp.get("/system/tasks/<task_id>")
@requires("users.manage")
@contract(resp=responds(HTTP_200=TaskStatus))
def system_task(task_id: str) -> Any:
    """The state of a background task sent by `POST /api/system/ping`."""
    result = AsyncResult(task_id)
    body: dict[str, Any] = {"id": task_id, "status": result.status}
    if result.successful():
        body["result"] = result.result
    return jsonify(body)
