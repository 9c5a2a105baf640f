"""Register documents as HTML pages: one Jinja template per kind, every word through the catalogue, dates
and numbers through Babel in the document's language. Pure: data and metadata in, HTML out."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from babel import dates, numbers
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from core.i18n import LABELS, LANGUAGES, catalogue, direction

from .data import (
    STATUS_LETTERS,
    CohortRegister,
    CohortTrainee,
    Column,
    Header,
    SessionFacts,
    SessionRegister,
    SessionRow,
)
from .layout import (
    COHORT_COLUMNS_PER_PAGE,
    COHORT_ROWS_PER_PAGE,
    COHORT_TAIL_ROWS,
    SESSION_ROWS_PER_PAGE,
    SESSION_TAIL_ROWS,
    Page,
    paginate,
)
from .pdf import html_to_pdf, qr_image_url

TEMPLATES = Path(__file__).parent / "templates"
# The words the screens use (core.i18n.LABELS), so a register says what the screen said.
STATUS_WORDS = LABELS["AttendanceStatus"]
SESSION_TYPES = LABELS["SessionType"]


@dataclass(frozen=True)
class DocumentMeta:
    """What every page prints besides the data: who may check it, and where."""

    reference: str
    verification_code: str
    verify_url: str
    printed_at: dt.datetime
    language: str
    time_zone: str

    @property
    def direction(self) -> str:
        return direction(self.language)


translations = catalogue  # the catalogue of a document's language (core.i18n)


@functools.lru_cache(maxsize=8)
def _environment(directory: str | None, language: str, templates: tuple[str, ...] = ()) -> Environment:
    """Templates of `templates` (searched first) and of the registers, so other documents import the registers'
    shared pieces (_document.html: the verification head and footer)."""
    env = Environment(loader=FileSystemLoader([*templates, str(TEMPLATES)]), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(directory, language), newstyle=True)  # type: ignore[attr-defined]
    return env


@functools.lru_cache(maxsize=32)
def qr_svg(url: str) -> str:
    """The verification URL as an inline SVG QR code (no file to fetch)."""
    return segno.make(url, error="m").svg_inline(scale=1, border=1, omitsize=True)


def session_pages(doc: SessionRegister) -> list[Page]:
    return paginate(len(doc.rows), SESSION_ROWS_PER_PAGE, SESSION_TAIL_ROWS)


def cohort_pages(doc: CohortRegister) -> list[Page]:
    return paginate(len(doc.trainees), COHORT_ROWS_PER_PAGE, COHORT_TAIL_ROWS, len(doc.columns),
                    COHORT_COLUMNS_PER_PAGE)


def _helpers(catalogue: NullTranslations, meta: DocumentMeta) -> dict[str, Any]:
    gettext, pgettext = catalogue.gettext, catalogue.pgettext
    locale = meta.language.replace("-", "_")

    def letter(status: str) -> str:
        return str(pgettext("attendance mark", STATUS_LETTERS[status]))

    def cell(value: str, legacy: bool) -> str:
        if not value or value == "-":
            return "–" if value == "-" else ""
        return letter(value).lower() if legacy else letter(value)

    def session_rate(counts: dict[str, int]) -> float | None:
        counted = counts.get("PRESENT", 0) + counts.get("LATE", 0) + counts.get("ABSENT", 0)
        return (counts.get("PRESENT", 0) + counts.get("LATE", 0)) / counted if counted else None

    return {
        "fmt_date": lambda d: dates.format_date(d, "medium", locale=locale),
        "short_date": lambda d: dates.format_skeleton("MMMd", d, locale=locale),
        "fmt_time": lambda t: dates.format_time(t, "short", locale=locale),
        "percent": lambda r: "" if r is None else numbers.format_percent(r, "#,##0%", locale=locale),
        "status_word": lambda s: str(gettext(STATUS_WORDS[s])),
        "session_type": lambda s: str(gettext(SESSION_TYPES.get(s, s))),
        "letter": letter, "cell": cell, "session_rate": session_rate,
    }


SLOT = 6  # characters per session column of the cohort grid (monospace): "  P   ", "05/01 ", "100%  "


def _grid_helpers(doc: CohortRegister, helpers: dict[str, Any], rtl: bool) -> dict[str, Any]:
    """The cohort grid's session columns as fixed-width monospace text, one cell per row instead of one per
    mark: the same grid on paper at a fraction of the layout cost (a 500 × 20 register has 10,000 marks).
    The trainee's attendance % is the row's last slot (a cell of its own costs as much to lay out as all the
    marks). In right-to-left documents the slots run from the right, like the table's columns."""

    def line(values: list[str]) -> str:
        slots = [v[:SLOT].center(SLOT).replace(" ", "\u00a0") for v in values]
        return "".join(reversed(slots) if rtl else slots)

    def mark_row(cells: tuple[str, ...], columns: range, rate: str) -> str:
        return line([*(helpers["cell"](cells[j], doc.columns[j].legacy) for j in columns), rate])

    def column_heads(columns: range) -> Markup:
        days = line([*(f"{doc.columns[j].date:%d/%m}" for j in columns), "%"])
        times = line([*(f"{doc.columns[j].start:%H:%M}" if doc.columns[j].start else "*" for j in columns), ""])
        return Markup("{}<br>{}").format(days, times)

    def count_row(status: str, columns: range) -> str:
        return line([str(doc.column_counts[j].get(status, 0)) for j in columns])

    def rate_row(columns: range) -> str:
        return line([helpers["percent"](helpers["session_rate"](doc.column_counts[j])) for j in columns])

    return {"mark_row": mark_row, "column_heads": column_heads, "count_row": count_row, "rate_row": rate_row}


def render_html(template: str, doc: SessionRegister | CohortRegister, pages: list[Page], total_pages: int,
                meta: DocumentMeta, translations_dir: str | None) -> str:
    """The HTML of `pages` (all of a document, or a run of it: page numbers are printed as given)."""
    helpers = _helpers(translations(translations_dir, meta.language), meta)
    if isinstance(doc, CohortRegister):
        helpers.update(_grid_helpers(doc, helpers, meta.direction == "rtl"))
    context = {"doc": doc, "pages": pages, "total_pages": total_pages, **helpers}
    return render_document_html(template, context, meta, translations_dir)


def render_document_html(template: str, context: dict[str, Any], meta: DocumentMeta, translations_dir: str | None,
                         templates: tuple[str, ...] = ()) -> str:
    """Any issued document's HTML (a register, a client report found in `templates`): `meta` (reference,
    verification code and URL, QR code, printed time) in reach of the shared head and footer."""
    env = _environment(translations_dir, meta.language, templates)
    local = meta.printed_at.astimezone(_zone(meta.time_zone))
    printed = dates.format_datetime(local, "medium", locale=meta.language.replace("-", "_")) + f" ({meta.time_zone})"
    return env.get_template(template).render({**context, "meta": _MetaView(meta, printed)})


@dataclass(frozen=True)
class _MetaView:
    meta: DocumentMeta
    printed_at: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.meta, name)

    @property
    def qr_svg(self) -> str:
        return qr_svg(self.meta.verify_url)

    @property
    def qr_src(self) -> str:
        return qr_image_url(self.meta.verify_url)


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def warm_up(translations_dir: str | None, languages: Sequence[str] = LANGUAGES) -> None:
    """Load what a process's first document would otherwise load on the clock: the templates compiled, each
    language's catalogue and Babel locale data, and (a one-trainee session and cohort register to PDF) the
    fonts regular, bold, monospace and Arabic, WeasyPrint's shaping, image, tagging and PDF/UA code (a
    50-trainee session register took 1.2 s as a process's first document, 0.8 s as its second)."""
    day = dt.date(2026, 1, 5)
    header = Header("Institut · معهد", "A-1", "Q-1", "Qualification", "Cohort", "public", "UTC")
    session = SessionRegister(header, SessionFacts(1, day, dt.time(9), dt.time(10), "THEORY", "Room", "Élodie", False,
                                                   None),
                              [SessionRow("Élodie Zérouali ياسين", "X-1", "LATE", 5, "note")], {"LATE": 1})
    cohort = CohortRegister(header, day, day, [Column(1, day, dt.time(9), "THEORY", True)],
                            [CohortTrainee("Élodie Zérouali ياسين", "X-1", ("PRESENT",), 1, 1)], [{"PRESENT": 1}])
    for n, language in enumerate(languages):
        meta = DocumentMeta("RWARM-WARM-WARM", "WARMUP00", "http://localhost/verify/RWARM-WARM-WARM",
                            dt.datetime(2026, 1, 5, tzinfo=dt.UTC), language, "UTC")
        for template, doc, pages in (("session_register.html", session, session_pages(session)),
                                     ("cohort_register.html", cohort, cohort_pages(cohort))):
            html = render_html(template, doc, pages, len(pages), meta, translations_dir)
            if n == 0:  # fonts and PDF code are the same in every language
                html_to_pdf(html, expected_pages=len(pages))
