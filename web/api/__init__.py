"""JSON API basics: health, who am I, a worker round-trip check, and the API's own description.

Feature APIs live in their blueprints; every one declares its contract with `web.contract.contract`.
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from celery.result import AsyncResult
from flask import Blueprint, jsonify, render_template, send_from_directory, url_for
from sqlalchemy import text

from tasks.system import ping

from ..auth import public, requires, signed_in, user
from ..contract import Accepted, contract, openapi_document, responds
from ..extensions import db
from .schemas import Health, Me, TaskStatus

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
@public
def openapi() -> Any:
    return jsonify(openapi_document())


@bp.get("/docs")
@public
def docs() -> Any:
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
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/me")
@signed_in
@contract(resp=responds(HTTP_200=Me))
def me() -> Any:
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
    result = AsyncResult(task_id)
    body: dict[str, Any] = {"id": task_id, "status": result.status}
    if result.successful():
        body["result"] = result.result
    return jsonify(body)
