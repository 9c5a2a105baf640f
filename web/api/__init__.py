"""JSON API basics: health, who am I, a worker round-trip check, and the API's own description.

Feature APIs live in their blueprints; every one declares its contract with `web.contract.contract`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import uuid
from typing import Any

import swagger_ui_bundle
from celery.result import AsyncResult
from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from core import clock, jobs, probes
from core.models import Role
from tasks.broker import queue_depths
from tasks.system import ping

from ..auth import public, requires, signed_in, user, without_database
from ..contract import Accepted, contract, openapi_document, responds
from ..errors import error_response
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
@without_database
@contract(resp=responds(HTTP_200=Health), security={})
def health() -> Any:
    """Liveness: the web process answers (it asks neither the database nor the broker)."""
    return jsonify(status="ok")


READY_TIMEOUT_SECONDS = 2.5  # /api/health/ready answers within 3 s whatever hangs


@bp.get("/health/ready")
@public
@without_database
@contract(resp=responds(HTTP_200=Ready, HTTP_503=Ready), security={})
def health_ready() -> Any:
    """Readiness: database, broker, a worker seen recently, age of the oldest queued job, stuck or failed jobs.

    Anyone may ask whether the service is ready and which part is not; worker host names, queue depths and ages
    are shown only to a super admin or with the operators' token (header `X-Health-Token`)."""
    checks = readiness_checks()
    unhealthy = [name for name, check in checks.items() if not check["ok"]]
    if not _may_see_details(database_ok=checks["database"]["ok"]):
        checks = {name: _anonymous(name, check) for name, check in checks.items()}
    return jsonify(status="ok" if not unhealthy else "unhealthy", unhealthy=unhealthy, checks=checks), \
        200 if not unhealthy else 503


def _may_see_details(database_ok: bool) -> bool:
    token = current_app.config.get("HEALTH_TOKEN")
    offered = request.headers.get("X-Health-Token", "")
    if token and offered and hmac.compare_digest(offered.encode(), str(token).encode()):
        return True
    if not database_ok:
        return False  # who is asking is a database question: not while it does not answer
    return bool(current_user.is_authenticated and user().role == Role.SUPER_ADMIN)


def _anonymous(name: str, check: dict[str, Any]) -> dict[str, Any]:
    """Ready or not, and which queues have a worker (names of queues only, no hosts, depths or ages)."""
    shown: dict[str, Any] = {"ok": check["ok"]}
    if name == "workers" and "live" in check:
        shown["live"] = [{"queues": w["queues"]} for w in check["live"]]
        shown["queues_without_worker"] = check["queues_without_worker"]
    return shown


def readiness_checks() -> dict[str, dict[str, Any]]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def database() -> dict[str, Any]:
        with app.app_context():
            return _database_checks(app.config["READY_MAX_QUEUE_AGE"], app.config["JOB_STALE_SECONDS"])

    def broker() -> dict[str, Any]:
        with app.app_context():
            return {"ok": True, "messages_waiting": queue_depths(jobs.QUEUES)}

    answers = probes.run_bounded({"database": database, "broker": broker}, READY_TIMEOUT_SECONDS)
    checks = {"database": {k: v for k, v in answers["database"].items() if k != "parts"},
              "broker": answers["broker"]}
    checks.update(answers["database"].get("parts", {}))
    return checks


def _database_checks(max_queue_age: float, stale_seconds: float) -> dict[str, Any]:
    """The database answers; and, from it, the workers' heartbeats, the queues' age, stuck or failed jobs."""
    session = db.session
    session.execute(text("SELECT 1"))
    live = jobs.live_workers(session)
    uncovered = [q for q in jobs.QUEUES if not any(q in w.queues.split(",") for w in live)]
    ages = jobs.oldest_queued(session)
    parts = {
        "workers": {"ok": bool(live) and not uncovered, "live": [
            {"hostname": w.hostname, "queues": w.queues.split(","), "seen_seconds_ago": round(
                (clock.now() - w.seen_at).total_seconds(), 1)} for w in live], "queues_without_worker": uncovered},
        "queue": {"ok": all(age <= max_queue_age for age in ages.values()), "max_age_seconds": max_queue_age,
                  "oldest_queued_seconds": {q: round(age, 1) for q, age in ages.items()}},
    }
    counts = jobs.trouble(session, dt.timedelta(seconds=stale_seconds))
    parts["jobs"] = {"ok": counts["stuck"] == 0, **counts}  # failed ones are counted, not a reason to be unready
    return {"ok": True, "parts": parts}


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
    task_id = str(uuid.uuid4())
    # Like every publish in a request, bounded: a broker that hangs is a 503 in half a second, not a wait.
    if not jobs.send_bounded(functools.partial(ping.apply_async, args=("api",), task_id=task_id, retry=False)):
        return error_response(503, "broker_unavailable", _("Unavailable for a moment."))
    return jsonify(id=task_id, status="PENDING",
                   status_url=url_for("api.system_task", task_id=task_id, _external=False)), 202


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
