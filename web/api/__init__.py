"""JSON API basics: health, who am I, and a worker round-trip check. Feature APIs live in their blueprints."""

from __future__ import annotations

from typing import Any

from celery.result import AsyncResult
from flask import Blueprint, jsonify, url_for
from sqlalchemy import text

from tasks.system import ping

from ..auth import public, requires, signed_in, user
from ..extensions import db

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/health")
@public
def health() -> Any:
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


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
