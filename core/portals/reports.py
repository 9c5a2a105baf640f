"""A client organization's reports on one of its corporate cohorts, as PDF or XLSX, built by a worker.

- delivery report: sessions delivered versus planned, hours delivered, attendance rate per session;
- progress report: each trainee (the organization's own employees): attendance % and sessions missed.

Both name the organization's employees or speak for its programme, so they exist only for organizations
an admin granted `corporate_reports.view`. They are register documents, issued with the registers' machinery
(core.registers): a PENDING row with its own public reference and verification code, enqueued after commit,
then READY with its file's sha256, or FAILED with a message. The PDF carries the registers' verification
footer and QR code (rendered by the registers' tagged-PDF renderer, which fetches nothing), the XLSX its
reference in the heading, and both verify on the public /verify page by reference or by their bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.support import NullTranslations
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import jobs
from core.attendance.export import neutralize
from core.errors import Forbidden, NotFound, ValidationError
from core.i18n import N_, direction
from core.models import Cohort, DocumentFormat, DocumentKind, RegisterDocument, User
from core.registers import data, pdf, render
from core.registers.service import BuildSettings, claim_build, document_meta, new_document, store_build
from core.signatures.reads import ProviderSignOff, provider_sign_off
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import rules
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
DELIVERY_WORDS = {rules.DELIVERED: N_("delivered"), rules.CANCELLED: N_("cancelled"), rules.PLANNED: N_("planned"),
                  rules.NOT_MARKED: N_("not marked")}
COHORT_STATUSES = {"ACTIVE": N_("active"), "COMPLETED": N_("completed"), "ARCHIVED": N_("archived"),
                   "CANCELLED": N_("cancelled")}

TEMPLATES = (str(Path(__file__).parent / "templates"),)  # searched before the registers' shared pieces


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
        language = command.language or data.institution_language(session, cohort.institution_id)
        doc = new_document(session, cohort, user, KINDS[(command.kind, command.format)],
                           DocumentFormat(command.format), language)
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
    return f"{kind}-report-{safe}-{doc.reference}.{fmt}"


# --- building ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Words:
    """A report's language: its catalogue's words, and Babel's formats for its dates and numbers."""

    language: str
    catalogue: NullTranslations

    @property
    def locale(self) -> str:
        return self.language.replace("-", "_")

    @property
    def direction(self) -> str:
        return direction(self.language)

    def gettext(self, msgid: str) -> str:
        return str(self.catalogue.gettext(msgid))

    def percent(self, rate: float | None) -> str:
        return "—" if rate is None else numbers.format_percent(rate, "#,##0.0%", locale=self.locale)

    def hours(self, value: float) -> str:
        return numbers.format_decimal(value, "0.0#", locale=self.locale)

    def date(self, day: dt.date | None) -> str:
        return dates.format_date(day, "medium", locale=self.locale) if day else ""

    def moment(self, when: dt.datetime, zone: str) -> str:
        return f"{dates.format_datetime(when.astimezone(ZoneInfo(zone)), 'medium', locale=self.locale)} ({zone})"

    def session_type(self, code: str) -> str:
        return self.gettext(render.SESSION_TYPES.get(code, code))

    def delivery(self, code: str) -> str:
        return self.gettext(DELIVERY_WORDS.get(code, code))

    def cohort_status(self, code: str) -> str:
        return self.gettext(COHORT_STATUSES.get(code, code))


def words_for(meta: render.DocumentMeta, translations_dir: str | None) -> Words:
    return Words(meta.language, render.translations(translations_dir, meta.language))


def render_pdf(kind: str, detail: ProgrammeDetail, meta: render.DocumentMeta, translations_dir: str | None,
               signed: ProviderSignOff | None = None) -> bytes:
    """A tagged PDF with the registers' verification footer (reference, code, URL) and QR code, in the
    document's language (right to left in Arabic); a delivery report carries the provider's sign-off."""
    w = words_for(meta, translations_dir)
    chart = rate_chart(session_points(detail.sessions), w.gettext("Attendance rate per delivered session"),
                       w.gettext("No attendance recorded yet.")) if kind == "delivery" else None
    html = render.render_document_html(
        f"{kind}_report.html", {"title": w.gettext(TITLES[kind]), "d": detail, "p": detail.programme, "w": w,
                                "chart": chart, "signed": signed}, meta, translations_dir, TEMPLATES)
    return pdf.html_to_pdf(html)


def _delivery_rows(detail: ProgrammeDetail, w: Words) -> tuple[list[str], list[list[object]]]:
    header = [w.gettext(h) for h in (N_("Date"), N_("Start"), N_("End"), N_("Type"), N_("Delivery"), N_("Hours"),
                                     N_("Present"), N_("Late"), N_("Absent"), N_("Excused"), N_("Attendance rate"))]
    rows = [[s.date, s.start_time.strftime("%H:%M"), s.end_time.strftime("%H:%M"), w.session_type(s.session_type),
             w.delivery(s.delivery), s.hours, s.attendance["PRESENT"], s.attendance["LATE"], s.attendance["ABSENT"],
             s.attendance["EXCUSED"], s.attendance_rate] for s in detail.sessions]
    return header, rows


def _progress_rows(detail: ProgrammeDetail, w: Words) -> tuple[list[str], list[list[object]]]:
    header = [w.gettext(h) for h in (N_("Trainee"), N_("Employee code"), N_("Present"), N_("Late"), N_("Absent"),
                                     N_("Excused"), N_("Sessions missed"), N_("Attendance rate"))]
    rows = [[t.name, t.employee_code, t.attendance["PRESENT"], t.attendance["LATE"], t.attendance["ABSENT"],
             t.attendance["EXCUSED"], t.sessions_missed, t.attendance_rate] for t in detail.trainees or []]
    return header, rows


def render_xlsx(kind: str, detail: ProgrammeDetail, meta: render.DocumentMeta, translations_dir: str | None
                ) -> bytes:
    """One sheet: a short heading block (with the document's reference, as the registers print it), then the
    table, in the document's language (read right to left in Arabic). Text cells are neutralized (no formulas)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    w = words_for(meta, translations_dir)
    _ = w.gettext
    p = detail.programme
    header, rows = _delivery_rows(detail, w) if kind == "delivery" else _progress_rows(detail, w)
    book = Workbook()
    sheet = book.active
    sheet.title = _(TITLES[kind])[:31]
    sheet.sheet_view.rightToLeft = w.direction == "rtl"
    heading = [[_(TITLES[kind])], [_("Organization"), detail.organization.name], [_("Programme"), p.name],
               [_("Course"), p.course or ""],
               [_("Sessions delivered / planned"), f"{p.sessions_held} / {p.sessions_planned}"],
               [_("Hours delivered"), detail.hours_delivered], [_("Attendance rate"), p.attendance_rate],
               [_("Generated"), w.moment(meta.printed_at, detail.time_zone)],
               [_("Reference"), meta.reference, _("Verification code"), meta.verification_code],
               [_("Verify at %(url)s") % {"url": meta.verify_url}], []]
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


def data_version(kind: str, fmt: str, language: str, detail: ProgrammeDetail, signed: ProviderSignOff | None = None
                 ) -> str:
    """A digest of everything the report shows: a newer build from other data supersedes this one."""
    shown = json.dumps([kind, fmt, language, dataclasses.asdict(detail), signed and dataclasses.asdict(signed)],
                       sort_keys=True, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()


def build_report(session: Session, storage: PrivateStorage, document_id: int, settings: BuildSettings
                 ) -> RegisterDocument | None:
    """Render and store one report in the document's language (chosen when it was requested, so a rebuild
    reads the same). Idempotent: a READY report is left as it is (the registers' claim)."""
    doc = session.get(RegisterDocument, document_id)
    if doc is None or doc.kind not in REPORT_OF:
        raise NotFound(N_("No such report."), code="not_found")
    if claim_build(session, document_id) is None:
        return session.get(RegisterDocument, document_id)
    kind, fmt = report_of(doc)
    cohort = session.get(Cohort, doc.cohort_id)
    detail = detail_of(session, cohort, with_trainees=kind == "progress", language=doc.language)
    if kind == "progress" and detail.trainees is None:
        raise ValidationError(N_("The organization no longer holds the grant for reports naming its employees."),
                              code="reports_not_granted")
    meta = document_meta(doc, settings, detail.time_zone)
    signed = provider_sign_off(session, cohort.id, settings.grace_hours) if kind == "delivery" else None
    version = data_version(kind, fmt, doc.language, detail, signed)
    session.rollback()  # the data is read: release the snapshot before the slow part
    if fmt == "pdf":
        content = render_pdf(kind, detail, meta, settings.translations_dir, signed)
    else:
        content = render_xlsx(kind, detail, meta, settings.translations_dir)
    return store_build(session, storage, document_id, content, folder="reports", fmt=DocumentFormat(fmt),
                       pages=len(PdfReader(io.BytesIO(content)).pages) if fmt == "pdf" else None, version=version)
