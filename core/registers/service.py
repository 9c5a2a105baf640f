"""Register documents: requested (a PENDING row, built after commit), built by a worker, served again
while their data has not changed, and never altered once READY.

Who may do what: requesting needs `registers.generate` and sight of the session or cohort (facilitators:
their own cohorts); reading and downloading need `registers.view` and the same sight. Other cohorts' and
other tenants' documents answer 404.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import clock, jobs
from core.access.scoping import cohort_filter, require, visible_cohort
from core.attendance import roster
from core.attendance.service import open_session
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_, direction
from core.models import Cohort, DocumentFormat, DocumentKind, DocumentStatus, RegisterDocument, User
from core.models.documents import new_code, new_reference
from core.seals import service as seals
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import data, exports, render, render_processes
from .commands import RequestRegister
from .jobs import BUILD
from .layout import chunks

log = logging.getLogger(__name__)

LIVE = (DocumentStatus.PENDING, DocumentStatus.BUILDING, DocumentStatus.READY)
# Attendance registers; client reports (core.portals.reports) share the table and are read through the portal.
REGISTER_KINDS = (DocumentKind.SESSION, DocumentKind.COHORT)
MEDIA_TYPES = {DocumentFormat.PDF: "application/pdf", DocumentFormat.CSV: "text/csv; charset=utf-8",
               DocumentFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class BuildSettings:
    base_url: str
    translations_dir: str | None = None
    processes: int = 2              # child processes rendering runs of pages in parallel
    pages_per_run: int = 20         # the unit of memory (~100 MB): a run renders in one pass, in one process
    grace_hours: int = 24           # the lock rule's grace after a session's local day (LOCK_GRACE_HOURS)
    runs_root: str | None = None    # where a build keeps its rendered page runs until stored (a retry reuses them)


def scope_of(doc: RegisterDocument) -> data.Scope:
    return data.Scope(doc.kind, doc.cohort_id, doc.session_id, doc.period_start, doc.period_end)


# --- requests --------------------------------------------------------------------------------------------------

def _requested_scope(session: Session, user: User, command: RequestRegister) -> tuple[Cohort, data.Scope]:
    if command.kind == "session":
        assert command.session_id is not None
        class_session, cohort, _ = open_session(session, user, command.session_id)
        require(session, user, "registers.generate")
        return cohort, data.Scope(DocumentKind.SESSION, cohort.id, class_session.id)
    assert command.cohort_id is not None
    cohort = _visible_cohort(session, user, command.cohort_id)
    require(session, user, "registers.generate")
    return cohort, data.Scope(DocumentKind.COHORT, cohort.id, None, command.period_start, command.period_end)


def request_document(session: Session, user: User, command: RequestRegister, *, grace_hours: int = 24
                     ) -> tuple[RegisterDocument, bool]:
    """The document for this request: an existing one built (or being built) from the same data, or a new
    PENDING one whose build job is queued (sent after commit; the sweeper sends it if the broker is down).
    Returns (document, reused)."""
    with unit_of_work(session):
        cohort, scope = _requested_scope(session, user, command)
        if data.nobody_on(session, cohort, scope):
            raise ValidationError(N_("Nobody is on this register: no learner or trainee is enrolled on its dates. "
                                     "Enrol them first, or choose dates inside their enrolment."),
                                  code="register_empty",
                                  details={"field": "from" if scope.period_start else "session_id"})
        language = command.language or data.institution_language(session, cohort.institution_id)
        fmt = DocumentFormat(command.format)
        version = data.data_version(session, scope, language, fmt.value, grace_hours)
        existing = session.scalar(
            select(RegisterDocument).where(*_same_scope(scope), RegisterDocument.format == fmt,
                                           RegisterDocument.language == language,
                                           RegisterDocument.data_version == version,
                                           RegisterDocument.status.in_(LIVE))
            .order_by(RegisterDocument.id.desc()).limit(1))
        if existing is not None:
            return existing, True
        doc = new_document(session, cohort, user, scope.kind, fmt, language, session_id=scope.session_id,
                           period_start=scope.period_start, period_end=scope.period_end, data_version=version)
        jobs.enqueue(session, BUILD, doc.id)
        return doc, False


def new_document(session: Session, cohort: Cohort, user: User, kind: DocumentKind, fmt: DocumentFormat,
                 language: str, **scope: object) -> RegisterDocument:
    """A PENDING document of the cohort's institution with its own public reference and verification code:
    every issued document (registers, client reports) is verifiable the same way. The caller queues its build."""
    doc = RegisterDocument(institution_id=cohort.institution_id, cohort_id=cohort.id, kind=kind, format=fmt,
                           language=language, status=DocumentStatus.PENDING, reference=new_reference(),
                           verification_code=new_code(), requested_by_id=user.id, **scope)
    session.add(doc)
    session.flush()
    return doc


def _same_scope(scope: data.Scope) -> list[object]:
    clauses: list[object] = [RegisterDocument.cohort_id == scope.cohort_id, RegisterDocument.kind == scope.kind]
    if scope.kind == DocumentKind.SESSION:
        clauses.append(RegisterDocument.session_id == scope.session_id)
    else:
        clauses += [RegisterDocument.period_start == scope.period_start,
                    RegisterDocument.period_end == scope.period_end]
    return clauses


def retry_document(session: Session, user: User, document_id: int) -> RegisterDocument:
    """Build a FAILED document again (its reference stays: nothing was ever issued under it)."""
    with unit_of_work(session):
        doc = visible_document(session, user, document_id)
        require(session, user, "registers.generate")
        jobs.retry(session, BUILD, doc.id)
    session.refresh(doc)
    return doc


# --- reading ---------------------------------------------------------------------------------------------------

def visible_document(session: Session, user: User, document_id: int) -> RegisterDocument:
    """The document, if `user` may see registers of its cohort; 404 otherwise (other tenants included)."""
    require(session, user, "registers.view")
    doc = session.scalar(select(RegisterDocument).join(Cohort, Cohort.id == RegisterDocument.cohort_id)
                         .where(RegisterDocument.id == document_id, RegisterDocument.kind.in_(REGISTER_KINDS),
                                cohort_filter(user)))
    if doc is None:
        raise NotFound(N_("No such document, or it is not one you can see."))
    if doc.session_id is not None:
        open_session(session, user, doc.session_id)  # the session's own rule (e.g. corporate attendance view)
    else:
        _visible_cohort(session, user, doc.cohort_id)
    return doc


def _visible_cohort(session: Session, user: User, cohort_id: int) -> Cohort:
    """The cohort, if the user may see it and its attendance (404 outside their scope, 403 without the right)."""
    cohort = visible_cohort(session, user, cohort_id)
    require(session, user, roster.permissions_for(cohort)[0])
    return cohort


def documents_for_session(session: Session, user: User, session_id: int, limit: int = 5) -> list[RegisterDocument]:
    open_session(session, user, session_id)
    return list(session.scalars(select(RegisterDocument).where(RegisterDocument.session_id == session_id)
                                .order_by(RegisterDocument.id.desc()).limit(limit)))


def documents_for_cohort(session: Session, user: User, cohort_id: int, limit: int = 20) -> list[RegisterDocument]:
    _visible_cohort(session, user, cohort_id)
    return list(session.scalars(select(RegisterDocument).where(RegisterDocument.cohort_id == cohort_id,
                                                               RegisterDocument.kind == DocumentKind.COHORT)
                                .order_by(RegisterDocument.id.desc()).limit(limit)))


def download_name(session: Session, doc: RegisterDocument) -> str:
    """A meaningful, safe file name: register-<cohort>-<date or period>-<reference>.<format>."""
    cohort = session.scalar(select(Cohort.name).where(Cohort.id == doc.cohort_id)) or "cohort"
    slug = "".join(c if c.isalnum() else "-" for c in cohort.encode("ascii", "ignore").decode()).strip("-").lower()
    slug = "-".join(part for part in slug.split("-") if part)[:60] or "cohort"
    if doc.kind == DocumentKind.SESSION:
        from core.models import ClassSession

        day = session.scalar(select(ClassSession.session_date).where(ClassSession.id == doc.session_id))
        when = day.isoformat() if day else f"session-{doc.session_id}"
    else:
        when = f"{doc.period_start}_{doc.period_end}"
    return f"register-{slug}-{when}-{doc.reference}.{doc.format.value}"


# --- building --------------------------------------------------------------------------------------------------

def claim_build(session: Session, document_id: int) -> RegisterDocument | None:
    """Move a PENDING (or redelivered BUILDING) document to BUILDING; None if there is nothing to build."""
    with unit_of_work(session):
        doc = session.get(RegisterDocument, document_id)
        if doc is None:
            raise NotFound(N_("No such document."))
        if doc.status in (DocumentStatus.READY, DocumentStatus.FAILED):
            return None  # idempotent: a redelivered task finds the work done (or given up: Retry first)
        redelivered = doc.status == DocumentStatus.BUILDING and doc.started_at is not None
        # A redelivered build keeps its start, which its pages print: the runs it rendered stay reusable.
        doc.status, doc.started_at = DocumentStatus.BUILDING, doc.started_at if redelivered else clock.now()
        return doc


def build_document(session: Session, storage: PrivateStorage, document_id: int, settings: BuildSettings
                   ) -> RegisterDocument | None:
    """Render and store the document. Idempotent: a READY document is left as it is."""
    doc = claim_build(session, document_id)
    if doc is None:
        return session.get(RegisterDocument, document_id)
    scope, fmt, language = scope_of(doc), doc.format, doc.language
    # The version is read before the data: a change in between makes the next request rebuild, never reuse.
    version = data.data_version(session, scope, language, fmt.value, settings.grace_hours)
    keep = Path(settings.runs_root) / f"document-{document_id}" if settings.runs_root else None
    content, pages = render_document(session, doc, settings, keep, storage)
    stored = store_build(session, storage, document_id, content, folder="registers", fmt=fmt, pages=pages,
                         version=version)
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
    return stored


def store_build(session: Session, storage: PrivateStorage, document_id: int, content: bytes, *, folder: str,
                fmt: DocumentFormat, pages: int | None, version: str | None) -> RegisterDocument | None:
    """Store a claimed document's file and make it READY with its sha256 (what verification matches). Every PDF
    is sealed here, last (after the tagged join), by its institution's seal: one place for every kind."""
    fingerprint = None
    if fmt == DocumentFormat.PDF:
        content, fingerprint = _sealed(session, document_id, content)
    stored = storage.save_bytes(content, folder, "." + fmt.value)
    with unit_of_work(session):
        moved = session.execute(update(RegisterDocument).where(
            RegisterDocument.id == document_id, RegisterDocument.status == DocumentStatus.BUILDING
        ).values(status=DocumentStatus.READY, storage_key=stored.key, sha256=stored.sha256, size_bytes=stored.size,
                 page_count=pages, data_version=version, error_message=None, finished_at=clock.now(),
                 seal_fingerprint=fingerprint)).rowcount
    if not moved:  # another delivery finished first: keep its file, drop ours
        storage.delete(stored.key)
    session.expire_all()
    return session.get(RegisterDocument, document_id)


def _sealed(session: Session, document_id: int, content: bytes) -> tuple[bytes, str]:
    institution_id = seals.document_institution(session, document_id)
    if institution_id is None:
        raise NotFound(N_("No such document."))
    return seals.seal_issued_pdf(session, institution_id, content)


def render_document(session: Session, doc: RegisterDocument, settings: BuildSettings, keep: Path | None = None,
                    storage: PrivateStorage | None = None) -> tuple[bytes, int | None]:
    """The document's bytes and, for PDFs, its page count (`keep`: render_processes.render_runs; with `storage`,
    learners' drawn signatures in it)."""
    language = doc.language
    if doc.kind == DocumentKind.SESSION:
        assert doc.session_id is not None
        content: data.SessionRegister | data.CohortRegister = data.session_register(session, doc.session_id, language,
                                                                                  settings.grace_hours, storage)
        template, pages = "session_register.html", render.session_pages(content)  # type: ignore[arg-type]
    else:
        assert doc.period_start is not None and doc.period_end is not None
        content = data.cohort_register(session, doc.cohort_id, doc.period_start, doc.period_end, language,
                                       settings.grace_hours)
        template, pages = "cohort_register.html", render.cohort_pages(content)
    session.rollback()  # the data is read: release the snapshot before the slow part
    if doc.format != DocumentFormat.PDF:
        gettext = render.translations(settings.translations_dir, language).gettext
        lines = (exports.session_lines(content, gettext) if isinstance(content, data.SessionRegister)
                 else exports.cohort_lines(content, gettext))
        if doc.format == DocumentFormat.CSV:
            return exports.to_csv(lines), None
        return exports.to_xlsx(lines, content.header.cohort, rtl=direction(language) == "rtl"), None
    meta = document_meta(doc, settings, content.header.time_zone)
    runs = [(_html_builder(template, content, run, len(pages), meta, settings.translations_dir), len(run))
            for run in chunks(pages, settings.processes, settings.pages_per_run)]
    return render_processes.render_runs(runs, settings.processes, keep), len(pages)


def _html_builder(template: str, content: data.SessionRegister | data.CohortRegister, run: list, total: int,
                  meta: render.DocumentMeta, translations_dir: str | None) -> Callable[[], str]:
    return lambda: render.render_html(template, content, run, total, meta, translations_dir)


def document_meta(doc: RegisterDocument, settings: BuildSettings, time_zone: str) -> render.DocumentMeta:
    """What an issued document prints besides its data: its reference, verification code and URL (the QR code)."""
    return render.DocumentMeta(reference=doc.reference, verification_code=doc.verification_code,
                               verify_url=verify_url(settings.base_url, doc.reference), printed_at=_build_start(doc),
                               language=doc.language, time_zone=time_zone)


def _build_start(doc: RegisterDocument) -> dt.datetime:
    """When the document's build began (what it prints as printed): the same for every attempt of one build."""
    started = doc.started_at or clock.now()
    return started if started.tzinfo else started.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


def verify_url(base_url: str, reference: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{reference}"


def ready_key(doc: RegisterDocument) -> str:
    """The stored file of a READY document (409 while it is being built)."""
    if doc.status != DocumentStatus.READY or not doc.storage_key:
        raise Conflict(N_("This document is not ready yet."), code="not_ready")
    return doc.storage_key
