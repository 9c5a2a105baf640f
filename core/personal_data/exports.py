"""A person's data export: requested by staff from the person's page or by a learner from /me (202 and a status
URL), built by a worker into a private ZIP (data.json, a readable summary.pdf in the person's language, their
evidence and the documents naming them as files), downloadable by the requester for 7 days."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock, jobs
from core.errors import Gone, NotFound
from core.i18n import N_, direction
from core.models import DataExport, Role, User
from core.registers import pdf, render
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import access_log, holdings
from .jobs import BUILD_EXPORT
from .people import Person, load_person
from .subjects import gather

KEEP_FOR = dt.timedelta(days=7)
TEMPLATES = (str(Path(__file__).parent / "templates"),)
_FIELD_WORDS = {"full_name": N_("Name"), "id_number": N_("ID number"), "email": N_("Email"),
                "phone_e164": N_("Phone"), "date_of_birth": N_("Date of birth"), "job_title": N_("Job title"),
                "employee_code": N_("Employee code"), "department": N_("Department")}


def person_language(session: Session, person: Person, fallback: str) -> str:
    """Their account's language, else the institution's (the caller's `fallback`)."""
    row = person.row
    user_id = row.id if person.kind == "users" else row.user_id
    account = session.get(User, user_id) if user_id else None
    return (account.language if account is not None and account.language else None) or fallback


def request_export(session: Session, actor: User, person: Person, language: str) -> DataExport:
    """A new export row and its job (sent after commit); the request is an export in the access log."""
    with unit_of_work(session):
        export = DataExport(institution_id=person.institution_id, person_kind=person.kind, person_id=person.id,
                            requested_by_id=actor.id, language=person_language(session, person, language),
                            status="PENDING", created_at=clock.now())
        session.add(export)
        session.flush()
        access_log.record(session, actor, person, "export")
        jobs.enqueue(session, BUILD_EXPORT, export.id)
    return export


def visible_export(session: Session, actor: User, export_id: int) -> DataExport:
    """The export, to whoever asked for it or an admin of its institution; 404 for anyone else."""
    export = session.get(DataExport, export_id)
    if export is None or not (export.requested_by_id == actor.id or (
            actor.role == Role.SUPER_ADMIN or (actor.role == Role.ADMIN
                                               and actor.institution_id == export.institution_id))):
        raise NotFound(N_("No such data export."))
    return export


def download_key(export: DataExport) -> str:
    if export.status != "READY" or export.storage_key is None or (
            export.expires_at is not None and export.expires_at <= clock.now()):
        raise Gone(N_("This export is not ready, or it has expired: ask for a new one."), code="export_unavailable")
    return export.storage_key


def build(session: Session, storage: PrivateStorage, export_id: int, translations_dir: str | None = None) -> str:
    """Build the ZIP (idempotent: a READY export is left as it is; a rerun replaces a half-built one)."""
    with unit_of_work(session):
        export = session.scalar(select(DataExport).where(DataExport.id == export_id).with_for_update())
        if export is None:
            return "GONE"
        if export.status == "READY":
            return "READY"
        export.status = "BUILDING"
    person = load_person(session, export.person_kind, export.person_id)
    if person is None:
        raise NotFound(N_("This person no longer exists."))
    subjects = gather(session, person, lock=False)
    data = holdings.collect(session, person, subjects)
    evidence = holdings.evidence_files(session, subjects)
    data["signatures"] = []
    for sig in holdings.signature_files(session, subjects):
        data["signatures"].append({"id": sig.id, "session_id": sig.session_id, "signed_at": sig.signed_at.isoformat(),
                                   "file": f"signatures/{sig.id}.png", "storage_key": sig.storage_key})
    # On disk, not in memory: a person with large files makes a large archive.
    with tempfile.TemporaryFile() as spool:
        _write_zip(spool, storage, data, evidence, export.language, translations_dir)
        spool.seek(0)
        stored = storage.save_stream(spool, "exports", ".zip")
    with unit_of_work(session):
        now = clock.now()
        moved = session.execute(update(DataExport).where(DataExport.id == export_id, DataExport.status == "BUILDING")
                                .values(status="READY", storage_key=stored.key, size_bytes=stored.size,
                                        sha256=stored.sha256, finished_at=now, expires_at=now + KEEP_FOR))
    if not moved.rowcount:  # type: ignore[attr-defined]
        storage.delete(stored.key)  # erased or settled meanwhile: keep nothing
    return "READY"


def _write_zip(out: Any, storage: PrivateStorage, data: dict[str, Any], evidence: list[Any], language: str,
               translations_dir: str | None) -> None:
    """data.json, summary.pdf, and the files: documents naming the person and their evidence."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in data["documents"]:
            name = f"documents/{doc['reference']}.{doc['format']}"
            _add_file(archive, storage, doc.pop("storage_key"), name)
            doc["file"] = name
        for sig in data["signatures"]:
            _add_file(archive, storage, sig.pop("storage_key"), sig["file"])
        data["evidence"] = []
        for ev in evidence:
            name = f"evidence/{ev.id}{Path(ev.storage_key).suffix}"
            _add_file(archive, storage, ev.storage_key, name)
            data["evidence"].append({"id": ev.id, "file": name, "original_filename": ev.original_filename,
                                     "content_type": ev.content_type, "size_bytes": ev.size_bytes,
                                     "uploaded_at": ev.created_at.isoformat()})
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=1, default=str))
        archive.writestr("summary.pdf", summary_pdf(data, language, translations_dir))


def _add_file(archive: zipfile.ZipFile, storage: PrivateStorage, key: str | None, name: str) -> None:
    if key and storage.path(key).exists():
        archive.write(storage.path(key), name)


def summary_pdf(data: dict[str, Any], language: str, translations_dir: str | None) -> bytes:
    env = render._environment(translations_dir, language, TEMPLATES)
    words = render.translations(translations_dir, language)
    person = data["person"]
    profile = [(words.gettext(_FIELD_WORDS[k]), v) for k, v in person.items() if k in _FIELD_WORDS]
    html = env.get_template("data_summary.html").render(
        language=language, direction=direction(language), institution=data["institution"], profile=profile,
        prepared_on=clock.now().date().isoformat(), enrolments=data["enrolments"],
        mark_counts=sorted(Counter(m["status"] for m in data["marks"]).items()), corrections=len(data["corrections"]),
        seen=data["seen_by"], evidence=len(data.get("evidence", [])), documents=len(data["documents"]))
    return pdf.html_to_pdf(html)


def present(export: DataExport, status_url: str, download_url: str | None) -> dict[str, Any]:
    expired = export.expires_at is not None and export.expires_at <= clock.now()
    return {"id": export.id, "kind": export.person_kind, "person_id": export.person_id,
            "status": "EXPIRED" if expired and export.status == "READY" else export.status,
            "status_url": status_url,
            "download_url": download_url if export.status == "READY" and not expired else None,
            "size_bytes": export.size_bytes, "created_at": export.created_at.isoformat(),
            "expires_at": export.expires_at.isoformat() if export.expires_at else None,
            "error": export.error_message}
