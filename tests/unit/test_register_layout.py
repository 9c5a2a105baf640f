"""Pure rules of register documents: fixed pagination, page runs, collation, spreadsheet neutralization."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import given
from hypothesis import strategies as st

from core.collation import sort_key
from core.registers import exports
from core.registers.data import Header, SessionFacts, SessionRegister, SessionRow
from core.registers.layout import chunks, paginate


def test_rows_fill_fixed_pages_and_the_last_rows_go_with_the_tail_when_it_does_not_fit():
    pages = paginate(17, 20, 8)
    assert [len(p.rows) for p in pages] == [14, 3] and [p.tail for p in pages] == [False, True]
    assert [len(p.rows) for p in paginate(12, 20, 8)] == [12] and paginate(12, 20, 8)[0].tail
    assert [p.number for p in paginate(45, 20, 8)] == [1, 2, 3]


def test_sessions_spill_onto_further_page_sets():
    pages = paginate(35, 30, 10, columns=24, columns_per_page=20)
    assert [(p.column_set, len(p.rows), len(p.columns)) for p in pages] == [(0, 30, 20), (0, 5, 20), (1, 30, 4),
                                                                           (1, 5, 4)]
    assert [p.tail for p in pages] == [False, True, False, True]


@given(st.integers(0, 2000), st.sampled_from([(20, 8), (30, 10)]))
def test_totals_never_stand_alone_under_an_empty_table(rows, sizes):
    per_page, tail = sizes
    pages = paginate(rows, per_page, tail)
    assert [i for p in pages for i in p.rows] == list(range(rows))  # every row once, in order
    assert all(len(p.rows) + (tail if p.tail else 0) <= per_page for p in pages)
    assert all(len(p.rows) > 0 for p in pages if p.tail) or rows == 0


@given(st.integers(0, 2000), st.integers(1, 8), st.integers(1, 16))
def test_page_runs_cover_every_page_once_in_order(rows, parts, max_pages):
    pages = paginate(rows, 20, 8)
    runs = chunks(pages, parts, max_pages)
    assert [p for run in runs for p in run] == pages
    assert all(0 < len(run) <= max_pages for run in runs)
    assert max(len(r) for r in runs) - min(len(r) for r in runs) <= 1  # even
    assert len(runs) == 1 or len(runs) >= min(parts, len(pages))  # one run when it fits, else ≥ one per process


def test_names_sort_by_collation_not_by_code_point():
    names = ["Yacine", "Élodie", "zoé", "Amel", "émile", "Zineb"]
    assert sorted(names, key=sort_key("fr")) == ["Amel", "Élodie", "émile", "Yacine", "Zineb", "zoé"]
    assert sorted(names) != sorted(names, key=sort_key("fr"))  # bytes would put É and é last


def test_session_csv_has_a_bom_and_neutralizes_every_formula_start():
    hostile = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]
    doc = SessionRegister(
        Header("Inst", "ACC-1", "Q1", "Qual", "Cohort", "public", "UTC"),
        SessionFacts(1, dt.date(2026, 1, 5), dt.time(9), dt.time(12), "THEORY", None, None, True, None),
        [SessionRow(name, None, "PRESENT", None, name) for name in hostile], {"PRESENT": len(hostile)})
    raw = exports.to_csv(exports.session_lines(doc, lambda s: s))
    assert raw.startswith("\ufeff".encode())
    cells = [c for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert "'=1+1" in cells and "'@SUM(A1)" in cells


def test_an_arabic_document_runs_right_to_left_and_its_grid_slots_start_at_the_right():
    from core.registers.data import CohortRegister, CohortTrainee, Column
    from core.registers.render import DocumentMeta, cohort_pages, render_html

    columns = [Column(i, dt.date(2026, 1, 5 + i), dt.time(9), "THEORY", True) for i in range(3)]
    doc = CohortRegister(Header("معهد", None, None, None, "فوج", "public", "Africa/Algiers"), dt.date(2026, 1, 5),
                         dt.date(2026, 1, 8), columns, [CohortTrainee("ياسين", None, ("PRESENT", "", "ABSENT"), 1, 2)],
                         [{"PRESENT": 1}, {}, {"ABSENT": 1}])
    meta = DocumentMeta("RAAAA-BBBB-CCCC", "CODE2345", "http://x/verify/RAAAA-BBBB-CCCC",
                        dt.datetime(2026, 1, 9, tzinfo=dt.UTC), "ar", "Africa/Algiers")
    html = render_html("cohort_register.html", doc, cohort_pages(doc), 1, meta, None)
    assert '<html lang="ar" dir="rtl">' in html
    marks = "\u00a0\u00a0A\u00a0\u00a0\u00a0" + "\u00a0" * 6 + "\u00a0\u00a0P\u00a0\u00a0\u00a0"  # session 1 rightmost
    assert marks in html


def _checked_in_doc() -> SessionRegister:
    return SessionRegister(
        Header("Inst", "ACC-1", "Q1", "Qual", "Cohort", "public", "Africa/Algiers"),
        SessionFacts(1, dt.date(2026, 11, 17), dt.time(9), dt.time(12), "THEORY", None, None, True, None),
        [SessionRow("Yacine", None, "PRESENT", None, None, "self_check_in", dt.time(9, 3)),
         SessionRow("Lina", None, "ABSENT", None, None, "auto"),
         SessionRow("Karim", None, "LATE", 20, "bus", "staff")], {"PRESENT": 1, "ABSENT": 1, "LATE": 1})


def test_session_register_pdf_shows_a_self_check_in_with_its_time():
    from core.registers.render import DocumentMeta, render_html, session_pages

    doc = _checked_in_doc()
    meta = DocumentMeta("RAAAA-BBBB-CCCC", "CODE2345", "http://x/verify/RAAAA-BBBB-CCCC",
                        dt.datetime(2026, 11, 17, tzinfo=dt.UTC), "en", "Africa/Algiers")
    html = render_html("session_register.html", doc, session_pages(doc), 1, meta, None)
    assert "self check-in 09:03" in html and "absent at close (automatic)" in html


def test_session_register_export_says_how_each_mark_was_made():
    lines = list(exports.session_lines(_checked_in_doc(), lambda s: s))
    assert [line[-1] for line in lines if line and line[0] in (1, 2, 3)] == [
        "self check-in 09:03", "automatic", "staff"]
