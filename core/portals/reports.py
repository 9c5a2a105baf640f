"""A client organization's reports on one of its corporate cohorts, as PDF or XLSX, built by a worker.

- delivery report: sessions delivered versus planned, hours delivered, attendance rate per session;
- progress report: each trainee (the organization's own employees): attendance % and sessions missed.

Both name the organization's employees or speak for its programme, so they exist only for organizations
an admin granted `corporate_reports.view`. They are register documents (the same table, storage and
worker machinery as the attendance registers): a PENDING row enqueued after commit, then READY with its
file's sha256, or FAILED with a message.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, jobs
from core.attendance.export import neutralize
from core.errors import Forbidden, NotFound, ValidationError
from core.i18n import N_
from core.models import Cohort, DocumentKind, DocumentStatus, RegisterDocument, User
from core.storage import PrivateStorage
from core.uow import unit_of_work

from .chart import rate_chart, session_points
from .commands import RequestReport
from .jobs import BUILD_REPORT
from .programmes import ProgrammeDetail, detail_of, reports_granted, visible_programme

KINDS: dict[tuple[str, str], DocumentKind] = {
    ("delivery", "pdf"): DocumentKind.DELIVERY_REPORT_PDF,
    ("delivery", "xlsx"): DocumentKind.DELIVERY_REPORT_XLSX,
    ("progress", "pdf"): DocumentKind.PROGRESS_REPORT_PDF,
    ("progress", "xlsx"): DocumentKind.PROGRESS_REPORT_XLSX,
}
REPORT_OF: dict[DocumentKind, tuple[str, str]] = {kind: key for key, kind in KINDS.items()}
MEDIA_TYPES = {"pdf": "application/pdf",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
TITLES = {"delivery": N_("Delivery report"), "progress": N_("Progress report")}

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"])
_templates.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # the words are msgids


def report_of(doc: RegisterDocument) -> tuple[str, str]:
    """(kind, format) of a report document, e.g. ("delivery", "pdf")."""
    return REPORT_OF[doc.kind]


def request_report(session: Session, user: User, cohort_id: int, command: RequestReport) -> RegisterDocument:
    """A PENDING report, built by a worker (a job: sent after commit, or by the sweeper if the broker is down)."""
    with unit_of_work(session):
        cohort = visible_programme(session, user, cohort_id)
        if not reports_granted(session, cohort.organization_id):
            raise Forbidden(N_("Your organization has not been granted reports naming its employees."),
                            code="reports_not_granted")
        doc = RegisterDocument(cohort_id=cohort.id, session_id=None, kind=KINDS[(command.kind, command.format)],
                               status=DocumentStatus.PENDING, requested_by_id=user.id)
        session.add(doc)
        session.flush()
        jobs.enqueue(session, BUILD_REPORT, doc.id)
    return doc


def visible_report(session: Session, user: User, document_id: int) -> RegisterDocument:
    """A report of one of the member's programmes, while their organization holds the grant; else 404/403."""
    doc = session.get(RegisterDocument, document_id)
    if doc is None or doc.kind not in REPORT_OF:
        raise NotFound(N_("No such report."), code="not_found")
    cohort = visible_programme(session, user, doc.cohort_id)
    if not reports_granted(session, cohort.organization_id):
        raise Forbidden(N_("Your organization has not been granted reports naming its employees."),
                        code="reports_not_granted")
    return doc


def recent_reports(session: Session, cohort_id: int, limit: int = 10) -> list[RegisterDocument]:
    return list(session.scalars(select(RegisterDocument).where(
        RegisterDocument.cohort_id == cohort_id, RegisterDocument.kind.in_(list(REPORT_OF)))
        .order_by(RegisterDocument.id.desc()).limit(limit)))


def filename(doc: RegisterDocument, cohort_name: str) -> str:
    kind, fmt = report_of(doc)
    safe = "".join(c if c.isalnum() else "-" for c in cohort_name).strip("-")[:60] or "cohort"
    return f"{kind}-report-{safe}-{doc.id}.{fmt}"


# --- building ---------------------------------------------------------------------------------------------------

def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def render_pdf(kind: str, detail: ProgrammeDetail, document_id: int, generated: dt.datetime) -> bytes:
    from weasyprint import HTML

    chart = rate_chart(session_points(detail.sessions), N_("Attendance rate per delivered session"),
                       N_("No attendance recorded yet.")) if kind == "delivery" else None
    html = _templates.get_template(f"{kind}_report.html").render(
        title=TITLES[kind], d=detail, p=detail.programme, percent=_percent, chart=chart,
        generated=generated.astimezone(ZoneInfo(detail.time_zone)).strftime("%Y-%m-%d %H:%M"),
        document_id=document_id)
    return HTML(string=html).write_pdf()


def _delivery_rows(detail: ProgrammeDetail) -> tuple[list[str], list[list[object]]]:
    header = [N_("Date"), N_("Start"), N_("End"), N_("Type"), N_("Delivery"), N_("Hours"), N_("Present"), N_("Late"),
              N_("Absent"), N_("Excused"), N_("Attendance rate")]
    rows = [[s.date, s.start_time.strftime("%H:%M"), s.end_time.strftime("%H:%M"), s.session_type, s.delivery,
             s.hours, s.attendance["PRESENT"], s.attendance["LATE"], s.attendance["ABSENT"], s.attendance["EXCUSED"],
             s.attendance_rate] for s in detail.sessions]
    return header, rows


def _progress_rows(detail: ProgrammeDetail) -> tuple[list[str], list[list[object]]]:
    header = [N_("Trainee"), N_("Employee code"), N_("Present"), N_("Late"), N_("Absent"), N_("Excused"),
              N_("Sessions missed"), N_("Attendance rate")]
    rows = [[t.name, t.employee_code, t.attendance["PRESENT"], t.attendance["LATE"], t.attendance["ABSENT"],
             t.attendance["EXCUSED"], t.sessions_missed, t.attendance_rate] for t in detail.trainees or []]
    return header, rows


def render_xlsx(kind: str, detail: ProgrammeDetail, document_id: int, generated: dt.datetime) -> bytes:
    """One sheet: a short heading block, then the table. Text cells are neutralized (no formulas)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    p = detail.programme
    header, rows = _delivery_rows(detail) if kind == "delivery" else _progress_rows(detail)
    book = Workbook()
    sheet = book.active
    sheet.title = TITLES[kind]
    heading = [[TITLES[kind]], [N_("Organization"), detail.organization.name], [N_("Programme"), p.name],
               [N_("Course"), p.course or ""],
               [N_("Sessions delivered / planned"), f"{p.sessions_held} / {p.sessions_planned}"],
               [N_("Hours delivered"), detail.hours_delivered], [N_("Attendance rate"), p.attendance_rate],
               [N_("Generated"), generated.strftime("%Y-%m-%d %H:%M UTC")], [N_("Document"), document_id], []]
    for line in [*heading, header, *rows]:
        sheet.append([value if isinstance(value, int | float | dt.date) else neutralize(value) for value in line])
    sheet["A1"].font = Font(bold=True, size=14)
    header_row = len(heading) + 1
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    rate_column = len(header)
    for row in sheet.iter_rows(min_row=header_row + 1, min_col=rate_column, max_col=rate_column):
        row[0].number_format = "0.0%"
    sheet["B7"].number_format = "0.0%"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def build_report(session: Session, storage: PrivateStorage, document_id: int) -> RegisterDocument:
    """Render and store one report. Idempotent: a READY report is left as it is."""
    doc = session.get(RegisterDocument, document_id)
    if doc is None or doc.kind not in REPORT_OF:
        raise NotFound(N_("No such report."), code="not_found")
    if doc.status == DocumentStatus.READY:
        return doc
    with unit_of_work(session):
        doc.status = DocumentStatus.BUILDING
    kind, fmt = report_of(doc)
    cohort = session.get(Cohort, doc.cohort_id)
    detail = detail_of(session, cohort, with_trainees=kind == "progress")
    if kind == "progress" and detail.trainees is None:
        raise ValidationError(N_("The organization no longer holds the grant for reports naming its employees."),
                              code="reports_not_granted")
    render = render_pdf if fmt == "pdf" else render_xlsx
    content = render(kind, detail, doc.id, clock.now())
    stored = storage.save_bytes(content, "reports", f".{fmt}")
    with unit_of_work(session):
        if doc.storage_key:
            storage.delete(doc.storage_key)
        doc.storage_key, doc.sha256, doc.size_bytes = stored.key, stored.sha256, stored.size
        doc.status, doc.error_message, doc.finished_at = DocumentStatus.READY, None, clock.now()
    return doc
