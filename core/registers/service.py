"""Register PDFs: requested by an admin (a PENDING row, enqueued after commit), built by a worker."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, jobs
from core.access.scoping import require
from core.attendance import marking, roster
from core.attendance.locking import lock_state
from core.attendance.service import open_session
from core.errors import NotFound
from core.models import (
    ClassSession,
    Cohort,
    DocumentKind,
    DocumentStatus,
    Institution,
    RegisterDocument,
    User,
)
from core.storage import PrivateStorage

from .jobs import BUILD_PDF

log = logging.getLogger(__name__)

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


def request_register_pdf(session: Session, user: User, session_id: int) -> RegisterDocument:
    class_session, cohort, _ = open_session(session, user, session_id)
    require(session, user, "registers.generate")
    doc = RegisterDocument(cohort_id=cohort.id, session_id=class_session.id, kind=DocumentKind.REGISTER_PDF,
                           status=DocumentStatus.PENDING, requested_by_id=user.id)
    session.add(doc)
    session.flush()
    jobs.enqueue(session, BUILD_PDF, doc.id)  # sent after commit; the sweeper sends it if the broker is down
    session.commit()
    return doc


def retry_document(session: Session, user: User, document_id: int) -> RegisterDocument:
    """Build a FAILED document again."""
    doc = visible_document(session, user, document_id)
    require(session, user, "registers.generate")
    jobs.retry(session, BUILD_PDF, doc.id)
    session.commit()
    session.refresh(doc)
    return doc


def documents_for_session(session: Session, user: User, session_id: int) -> list[RegisterDocument]:
    open_session(session, user, session_id)
    return list(session.scalars(select(RegisterDocument).where(RegisterDocument.session_id == session_id)
                                .order_by(RegisterDocument.id.desc()).limit(5)))


def visible_document(session: Session, user: User, document_id: int) -> RegisterDocument:
    doc = session.get(RegisterDocument, document_id)
    if doc is None or doc.session_id is None:
        raise NotFound("No such document.")
    open_session(session, user, doc.session_id)
    return doc


def render_register_html(session: Session, class_session: ClassSession, cohort: Cohort, document_id: int,
                         grace_hours: int = 24) -> str:
    zone = session.scalar(select(Institution.time_zone).where(Institution.id == class_session.institution_id)) or "UTC"
    lock = lock_state(class_session, zone, grace_hours)  # the rule: by hand, or past the cut-off
    rows = roster.load_register(session, cohort, class_session.id)
    local = ZoneInfo(zone)
    when = (f"{class_session.session_date:%A %d %B %Y}, {class_session.start_time:%H:%M}–"
            f"{class_session.end_time:%H:%M} ({zone})")
    return _templates.get_template("register.html").render(
        cohort=cohort.name, when=when, session_type=class_session.session_type.label,
        room=class_session.room.name if class_session.room else None,
        instructor=class_session.instructor.full_name if class_session.instructor else None,
        locked=lock.locked,
        locked_at=lock.locked_at.astimezone(local).strftime("%d %b %Y %H:%M") if lock.locked_at else "",
        counts=marking.status_counts(r.status for r in rows), rows=rows,
        generated=clock.now().strftime("%Y-%m-%d %H:%M"), document_id=document_id)


def build_register_pdf(session: Session, storage: PrivateStorage, document_id: int, grace_hours: int = 24
                       ) -> RegisterDocument:
    """Render and store the PDF. Idempotent: a READY document is left as it is."""
    doc = session.get(RegisterDocument, document_id)
    if doc is None:
        raise NotFound("No such document.")
    if doc.status == DocumentStatus.READY:
        return doc
    doc.status = DocumentStatus.BUILDING
    session.commit()
    class_session = session.get(ClassSession, doc.session_id)
    cohort = session.get(Cohort, doc.cohort_id)
    if class_session is None or cohort is None:
        doc.status, doc.error_message = DocumentStatus.FAILED, "The session no longer exists."
        session.commit()
        return doc
    from weasyprint import HTML

    pdf = HTML(string=render_register_html(session, class_session, cohort, doc.id, grace_hours)).write_pdf()
    stored = storage.save_bytes(pdf, "registers", ".pdf")
    if doc.storage_key:
        storage.delete(doc.storage_key)
    doc.storage_key, doc.sha256, doc.size_bytes = stored.key, stored.sha256, stored.size
    doc.status, doc.error_message, doc.finished_at = DocumentStatus.READY, None, dt.datetime.now(dt.UTC)
    session.commit()
    return doc


def mark_failed(session: Session, document_id: int, message: str) -> None:
    session.rollback()
    doc = session.get(RegisterDocument, document_id)
    if doc is not None:
        doc.status, doc.error_message = DocumentStatus.FAILED, message[:1000]
        session.commit()
