"""Register documents as spreadsheets: CSV (UTF-8 with a BOM, so spreadsheet programs show accents) and
XLSX (openpyxl, write-only: constant memory). The same data as the PDF; every cell that could start a
formula is neutralized. Pure: data in, bytes out."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

from core.attendance.export import HOW, neutralize

from .data import CohortRegister, SessionRegister

BOM = "\ufeff"
Gettext = Callable[[str], str]


def how_marked(source: str | None, checked_in: Any, _: Gettext) -> str:
    """"self check-in 09:03", "automatic" or "staff" (the check-in time local, as on the PDF)."""
    if source == "self_check_in" and checked_in is not None:
        return _("self check-in %(time)s") % {"time": f"{checked_in:%H:%M}"}
    return _(HOW[source]) if source in HOW else ""


def session_lines(doc: SessionRegister, _: Gettext) -> Iterator[list[Any]]:
    s, h = doc.session, doc.header
    yield [_("Institution"), h.institution, _("Accreditation no."), h.accreditation_number or ""]
    yield [_("Qualification"), h.qualification_code or "", h.qualification_title or ""]
    yield [_("Cohort"), h.cohort]
    yield [_("Date"), s.date.isoformat(), _("Time"), f"{s.start:%H:%M}-{s.end:%H:%M}", h.time_zone]
    yield [_("Session type"), s.session_type, _("Room"), s.room or "", _("Facilitator"), s.facilitator or ""]
    yield [_("Locked"), _("yes") if s.is_locked else _("no")]
    yield []
    yield ["#", _("Trainee"), _("ID number / employee code"), _("Status"), _("Min. late"), _("Note"),
           _("How marked")]
    for i, r in enumerate(doc.rows, 1):
        yield [i, r.name, r.detail or "", r.status or "", r.minutes_late if r.minutes_late is not None else "",
               r.notes or "", how_marked(r.source, r.checked_in, _)]
    yield []
    for status, count in doc.counts.items():
        yield [_("Total"), status, count]


def cohort_lines(doc: CohortRegister, _: Gettext) -> Iterator[list[Any]]:
    h = doc.header
    yield [_("Institution"), h.institution, _("Accreditation no."), h.accreditation_number or ""]
    yield [_("Qualification"), h.qualification_code or "", h.qualification_title or ""]
    yield [_("Cohort"), h.cohort, _("Period"), doc.period_start.isoformat(), doc.period_end.isoformat()]
    yield []
    heads = [c.date.isoformat() + (f" {c.start:%H:%M}" if c.start else " " + _("daily")) for c in doc.columns]
    yield ["#", _("Trainee"), _("ID / code"), *heads, _("Attendance %")]
    for i, t in enumerate(doc.trainees, 1):
        cells = [_cell(v, c.legacy) for v, c in zip(t.cells, doc.columns, strict=True)]
        yield [i, t.name, t.detail or "", *cells, "" if t.rate is None else round(t.rate * 100, 1)]
    yield []
    for status in ("PRESENT", "ABSENT", "LATE", "EXCUSED", "UNMARKED"):
        yield ["", _("Total"), status, *(counts.get(status, 0) for counts in doc.column_counts), ""]


def _cell(value: str, legacy: bool) -> str:
    """Status words in spreadsheets (no legend needed); legacy daily records say so."""
    if value == "-":
        return "–"  # not enrolled that day
    return f"{value} (daily)" if legacy and value else value


def to_csv(lines: Iterator[list[Any]]) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in lines:
        writer.writerow([_safe(v) for v in line])
    return buffer.getvalue().encode("utf-8")


def to_xlsx(lines: Iterator[list[Any]], title: str, rtl: bool = False) -> bytes:
    """The lines as one sheet; read right to left in right-to-left languages (columns start at the right)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Register")
    sheet.sheet_view.rightToLeft = rtl
    for line in lines:
        sheet.append([_safe(v) for v in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(value: Any) -> Any:
    """Numbers stay numbers; text is neutralized (a leading =, +, -, @, tab or CR becomes literal text)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return neutralize(value)
