"""Personal data (issue 25): erasure, data exports, the corrections history, the access log and retention."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, url_for

from core.institutions.service import own_institution
from core.personal_data import access_log, corrections, erasure, exports, policy
from core.personal_data.commands import Erase, RetentionSettings
from core.personal_data.people import Person, visible_person
from core.personal_data.reads import recent_retention_runs

from ..auth import requires, signed_in, user
from ..contract import ErrorEnvelope, contract, responds
from ..downloads import attachment
from ..extensions import db
from ..i18n import current_language
from .schemas import AccessLogOut, CorrectionsOut, DataExportOut, ErasureOut, RetentionOut

bp = Blueprint("personal_data", __name__)
KIND = "<any(learners, trainees, users):kind>"


@bp.post(f"/api/people/{KIND}/<int:person_id>/erasure")
@requires("personal_data.erase")
@contract(resp=responds(HTTP_200=ErasureOut, HTTP_403=ErrorEnvelope))
def api_erase(kind: str, person_id: int, json: Erase) -> Any:
    """Erase a person: a pseudonym replaces their personal fields, their account closes, their files go after
    commit; registers under a legal hold are kept (listed with the day the hold ends). A second call answers what
    was done. Needs the acting admin's `password` (a fresh confirmation)."""
    done, now = erasure.erase(db.session, user(), kind, person_id, json.reason, json.password)
    return erasure.present(done, done_now=now)


def _export_out(export: Any) -> dict[str, Any]:
    return exports.present(export, url_for("personal_data.api_export_status", export_id=export.id),
                           url_for("personal_data.api_export_download", export_id=export.id))


def start_export(person: Person) -> Any:
    export = exports.request_export(db.session, user(), person, current_language())
    return _export_out(export), 202


@bp.post(f"/api/people/{KIND}/<int:person_id>/data-export")
@requires("personal_data.export")
@contract(resp=responds(HTTP_202=DataExportOut))
def api_export(kind: str, person_id: int) -> Any:
    """Export everything held on a person (a worker builds a ZIP: data.json, summary.pdf, their files)."""
    return start_export(visible_person(db.session, user(), kind, person_id))


@bp.get("/api/data-exports/<int:export_id>")
@signed_in
@contract(resp=responds(HTTP_200=DataExportOut))
def api_export_status(export_id: int) -> Any:
    """An export's status (to whoever asked for it, or an admin of its institution)."""
    return _export_out(exports.visible_export(db.session, user(), export_id))


@bp.get("/api/data-exports/<int:export_id>/download")
@signed_in
@contract(resp=responds(HTTP_200=None, HTTP_410=ErrorEnvelope))
def api_export_download(export_id: int) -> Any:
    """The export's ZIP: private, for 7 days after it was built (410 once expired or while not ready)."""
    export = exports.visible_export(db.session, user(), export_id)
    key = exports.download_key(export)
    return Response(current_app.extensions["storage"].iter_chunks(key), mimetype="application/zip",
                    headers={"Content-Disposition": attachment(f"personal-data-{export.id}.zip"),
                             "Cache-Control": "private, no-store"})


@bp.get(f"/api/people/{KIND}/<int:person_id>/corrections")
@requires("personal_data.export")
@contract(resp=responds(HTTP_200=CorrectionsOut))
def api_corrections(kind: str, person_id: int) -> Any:
    """Every change to the person's personal fields: who, when, old and new value, why."""
    person = visible_person(db.session, user(), kind, person_id)
    return {"items": [corrections.present(c) for c in corrections.history(db.session, kind, person.id)]}


@bp.get(f"/api/people/{KIND}/<int:person_id>/access-log")
@requires("personal_data.export")
@contract(resp=responds(HTTP_200=AccessLogOut))
def api_access_log(kind: str, person_id: int) -> Any:
    """Staff views of the person's page and exports of their data, newest first (at most 200)."""
    person = visible_person(db.session, user(), kind, person_id)
    return {"items": access_log.entries(db.session, kind, person.id)}


def _retention(institution_id: int) -> dict[str, Any]:
    runs = recent_retention_runs(db.session, institution_id)
    return {**policy.policy_of(db.session, institution_id).as_dict(),
            "last_runs": [{"started_at": r.started_at.isoformat(),
                           "finished_at": r.finished_at.isoformat() if r.finished_at else None, "counts": r.counts}
                          for r in runs]}


def _own_institution() -> int:
    return own_institution(user())


@bp.get("/api/institution/retention")
@requires("personal_data.records")
@contract(resp=responds(HTTP_200=RetentionOut))
def api_retention() -> Any:
    """The institution's retention periods and its latest nightly runs (counts removed, never the data)."""
    return _retention(_own_institution())


@bp.put("/api/institution/retention")
@requires("personal_data.records")
@contract(resp=responds(HTTP_200=RetentionOut))
def api_retention_update(json: RetentionSettings) -> Any:
    """Change the retention periods (keys left out keep their value)."""
    institution_id = _own_institution()
    policy.set_policy(db.session, user(), institution_id, json.model_dump(exclude_none=True))
    return _retention(institution_id)
from . import records as _records  # noqa: E402,F401  (the records' routes on this blueprint)
from . import screens as _screens  # noqa: E402,F401  (the screens on this blueprint)
