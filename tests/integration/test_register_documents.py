"""Register documents built from known data and read back: PDFs (pdfplumber/pypdf), XLSX (openpyxl) and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata

import pdfplumber
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from core.collation import sort_key
from core.i18n import LABELS
from core.models import RegisterDocument
from core.registers import pdf as register_pdf
from core.storage import PrivateStorage
from tests.registers_factories import (
    ACCENTED,
    ARABIC,
    EXTRA_NAMES,
    FILE_URL,
    FORMULA,
    REMOTE_URL,
    add_learners,
    build,
    enrolments_by_name,
    mark,
    past_session,
)


@pytest.fixture
def storage(tmp_path):
    return PrivateStorage(tmp_path / "private")


def _text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as document:
        return unicodedata.normalize("NFKC", "\n".join(page.extract_text() or "" for page in document.pages))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _file(storage, doc: RegisterDocument) -> bytes:
    with storage.open(doc.storage_key) as f:
        return f.read()


@pytest.fixture
def marked_session(sql, demo):
    """Yesterday's session of the public cohort: 12 demo learners plus accented, Arabic and hostile names."""
    cohort = demo["public_cohort_id"]
    add_learners(sql, cohort, demo["institution_id"], EXTRA_NAMES)
    session_id, day = past_session(sql, cohort)
    ids = enrolments_by_name(sql, cohort)
    marks = {eid: ("PRESENT", None, None) for eid in ids.values()}
    marks[ids["Yacine Belkacem"]] = ("LATE", 12, "bus strike")
    marks[ids[ACCENTED]] = ("ABSENT", None, "sick")
    marks[ids[ARABIC]] = ("EXCUSED", None, None)
    del marks[ids["Lina Haddad"]]  # unmarked
    mark(sql, session_id, day, marks)
    return session_id, ids


def test_session_register_pdf_reads_back_every_trainee_mark_and_total(sql, demo, storage, marked_session):
    session_id, ids = marked_session
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    assert doc.status.value == "READY", doc.error_message
    data = _file(storage, doc)
    text = _text(data)
    squashed = _squash(text)
    for name in ids:  # every trainee; Arabic comes back in visual (right-to-left) order
        if name in (FORMULA, FILE_URL, REMOTE_URL):  # long ones wrap inside their cell: both ends are there
            assert _squash(name[:14]) in squashed and _squash(name[-8:]) in squashed, name
        else:
            assert _squash(name) in squashed or _squash(name[::-1]) in squashed, name
    assert "16 Yacine Belkacem DEMO0000 Late 12 bus strike" in text
    assert "Élodie Zérouali X1-00000 Absent sick" in text
    assert "Lina Haddad DEMO0001\n" in text  # unmarked: no status
    assert "Present: 13 Late: 1 Absent: 1 Excused: 1" in text
    assert "Unmarked: 1" in text and "Total: 17" in text
    assert "Demo Training Institute" in text and "WLD-101 — Welding Fundamentals" in text
    assert f"Reference {doc.reference}" in text and doc.verification_code in text
    assert f"Verify at http://testserver/verify/{doc.reference}" in text
    assert "Signature" in text and "Facilitator" in text and "Training provider" in text
    reader = PdfReader(io.BytesIO(data))
    # 17 rows leave no room for the totals and sign-off on page 1 (20 rows a page, 8 for the tail).
    assert len(reader.pages) == doc.page_count == 2
    assert "Page 1 of 2" in text and "Page 2 of 2" in text
    assert text.count("# Trainee employee Status Note Signature") == 2  # the table head on every page
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged for screen readers


def test_session_register_says_the_session_type_in_the_words_the_screens_use(sql, demo, storage, marked_session):
    session_id, _ = marked_session
    sql.execute(text("UPDATE class_sessions SET session_type = 'WBL' WHERE id = :id"), {"id": session_id})
    sql.commit()
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    assert doc.status.value == "READY", doc.error_message
    text_ = _text(_file(storage, doc))
    assert f"Session type {LABELS['SessionType']['WBL']}" in text_ and "Work-based learning" in text_
    assert "Wbl" not in text_ and "Workplace" not in text_


def test_session_register_sorts_names_by_collation_not_bytes(sql, demo, storage, marked_session):
    session_id, ids = marked_session
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    text = _text(_file(storage, doc))
    latin = [n for n in ids if n[0].isalpha() and n != ARABIC]
    positions = {n: text.index(n) for n in latin}
    assert sorted(latin, key=lambda n: positions[n]) == sorted(latin, key=sort_key("en"))
    # Byte order would put "Élodie" after "Yacine"; collation puts it among the E…s.
    assert positions[ACCENTED] < positions["Hichem Ziani"] < positions["Yacine Belkacem"]
    assert positions["Yacine Belkacem"] < text.index(ARABIC[::-1])  # Arabic script after Latin (en collation)


def test_names_that_look_like_urls_are_printed_and_never_fetched(sql, demo, storage, marked_session):
    session_id, _ = marked_session
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    text = _text(_file(storage, doc))
    squashed = _squash(text)
    for name in (FILE_URL, REMOTE_URL):  # printed as text (wrapped in its cell); nothing was fetched
        assert _squash(name[:14]) in squashed and _squash(name[-8:]) in squashed


def test_the_url_fetcher_refuses_files_outside_the_package_and_remote_urls(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not really")
    fetcher = register_pdf.allow_list_fetcher()
    html = (f'<p>x</p><img src="file://{secret}"><img src="http://198.51.100.7/a.png">'
            '<link rel="stylesheet" href="file:///etc/passwd">')
    pdf_bytes = register_pdf.html_to_pdf(html, fetcher=fetcher)
    assert pdf_bytes.startswith(b"%PDF")
    assert sorted(fetcher.refused) == sorted([f"file://{secret}", "http://198.51.100.7/a.png", "file:///etc/passwd"])
    inside = register_pdf.PACKAGE_ROOT / "templates" / "register.css"
    assert fetcher.fetch(f"file://{inside}").read().startswith(b"/*")


# --- cohort register -------------------------------------------------------------------------------------------

MM = 72 / 25.4
SLOT = 9.2 * MM                 # one session column
MARKS_X0 = (10 + 6 + 50 + 22) * MM  # page margin + #, name and ID columns


@pytest.fixture
def cohort_with_marks(sql, demo):
    """The public cohort over 24 sessions (two page sets of 20 + 4) on past days, with known marks."""
    from sqlalchemy import delete

    from core import clock
    from core.models import ClassSession
    from tests.attendance_factories import make_session

    cohort = demo["public_cohort_id"]
    sql.execute(delete(ClassSession).where(ClassSession.cohort_id == cohort))  # only the sessions made here
    sql.commit()
    add_learners(sql, cohort, demo["institution_id"], [ACCENTED, ARABIC, FORMULA])
    ids = enrolments_by_name(sql, cohort)
    today = clock.today_in("Africa/Algiers")
    start = today - dt.timedelta(days=28)  # after the demo's legacy daily records (day -30)
    sessions = []
    for i in range(24):
        day = start + dt.timedelta(days=i)
        sid = make_session(sql, cohort, day, dt.time(8), dt.time(9))
        sessions.append((sid, day))
    expected: dict[str, list[str]] = {name: [""] * len(sessions) for name in ids}
    cycle = ["PRESENT", "ABSENT", "LATE", "EXCUSED", "PRESENT", None]
    for j, (sid, day) in enumerate(sessions):
        marks = {}
        for k, (name, eid) in enumerate(sorted(ids.items())):
            status = cycle[(j + k) % len(cycle)]
            if status:
                marks[eid] = (status, 5 if status == "LATE" else None, None)
                expected[name][j] = status
        mark(sql, sid, day, marks)
    return start, today, ids, sessions, expected


def _rows_of_marks(data: bytes) -> dict[int, list[tuple[int, str]]]:
    """Per page: (row top, [(slot, text)]) read from the words' positions in the grid."""
    out = {}
    with pdfplumber.open(io.BytesIO(data)) as document:
        for number, page in enumerate(document.pages):
            out[number] = page.extract_words(keep_blank_chars=False, use_text_flow=False)
    return out


def _rate(statuses: list[str]) -> str:
    counted = [s for s in statuses if s and s != "EXCUSED"]
    if not counted:
        return ""
    return f"{round(100 * sum(s in ('PRESENT', 'LATE') for s in counted) / len(counted))}%"


def test_cohort_register_grid_reads_back_marks_rates_and_page_sets(sql, demo, storage, cohort_with_marks):
    start, today, ids, _sessions, expected = cohort_with_marks
    doc = build(sql, storage, demo["users"]["admin"], kind="cohort", cohort_id=demo["public_cohort_id"],
                format="pdf", **{"from": start.isoformat(), "to": today.isoformat()})
    assert doc.status.value == "READY", doc.error_message
    data = _file(storage, doc)
    text = _text(data)
    reader = PdfReader(io.BytesIO(data))
    # 15 trainees on one page per set; 24 sessions spill onto a second page set of 4.
    assert len(reader.pages) == doc.page_count == 2
    assert text.count("Cohort attendance register") == 2 and text.count("Trainee") >= 2  # head repeated
    assert "set 1 of 2" in text and "set 2 of 2" in text
    letters = {"PRESENT": "P", "ABSENT": "A", "LATE": "L", "EXCUSED": "E"}
    words = _rows_of_marks(data)
    for page, columns in ((0, range(0, 20)), (1, range(20, 24))):
        page_words = words[page]
        for name in ids:
            if name in (FORMULA,) or name == ARABIC:
                continue
            first = name.split()[0]
            anchor = next(w for w in page_words if w["text"] == first and w["x0"] < MARKS_X0)
            row = [w for w in page_words if abs(w["top"] - anchor["top"]) < 2 and w["x0"] >= MARKS_X0 - 1]
            marks = {int((w["x0"] - MARKS_X0) // SLOT): w["text"] for w in row if len(w["text"]) == 1}
            want = {j - columns.start: letters[s] for j, s in enumerate(expected[name]) if s and j in columns}
            assert marks == want, (page, name)
            rate = [w["text"] for w in row if w["text"].endswith("%")]
            assert rate == [_rate(expected[name])], (name, rate)
    # Names by collation: Élodie among the E's, not after Yacine.
    assert text.index(ACCENTED) < text.index("Hichem Ziani") < text.index("Yacine Belkacem")
    assert "Total: Present" in text and "Attendance %" in text


def test_cohort_register_shows_legacy_daily_records_with_their_own_mark(sql, demo, storage):
    from core.models import Cohort

    cohort = sql.get(Cohort, demo["public_cohort_id"])
    doc = build(sql, storage, demo["users"]["admin"], kind="cohort", cohort_id=cohort.id, format="pdf",
                **{"from": cohort.start_date.isoformat(), "to": cohort.start_date.isoformat()})
    data = _file(storage, doc)
    words = _rows_of_marks(data)[0]
    # The demo has four legacy daily records (PRESENT, no session) on the cohort's first day, for its first
    # four learners: a column of its own, marked "*" in the head, cells in lower case.
    legacy_rows = 0
    for name in ("Yacine", "Lina", "Karim", "Amel"):
        anchor = next(w for w in words if w["text"] == name and w["x0"] < MARKS_X0)
        row = [w["text"] for w in words if abs(w["top"] - anchor["top"]) < 2 and w["x0"] >= MARKS_X0 - 1]
        legacy_rows += row[:1] == ["p"]
    assert legacy_rows == 4
    text = _text(data)
    assert "recorded by day" in text and "*" in text


# --- spreadsheets ----------------------------------------------------------------------------------------------

def test_session_register_csv_has_a_bom_every_row_and_neutralized_formulas(sql, demo, storage, marked_session):
    session_id, ids = marked_session
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="csv")
    raw = _file(storage, doc)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    body = {r[1]: r for r in rows if len(r) >= 6 and r[0].isdigit()}
    assert len(body) == len(ids)
    assert body["Yacine Belkacem"][3:6] == ["LATE", "12", "bus strike"]
    assert body[ACCENTED][3] == "ABSENT" and body[ARABIC][3] == "EXCUSED" and body["Lina Haddad"][3] == ""
    assert "'" + FORMULA in body  # a formula is text, never evaluated
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_cohort_register_xlsx_round_trip(sql, demo, storage, cohort_with_marks):
    start, today, ids, sessions, expected = cohort_with_marks
    doc = build(sql, storage, demo["users"]["admin"], kind="cohort", cohort_id=demo["public_cohort_id"],
                format="xlsx", **{"from": start.isoformat(), "to": today.isoformat()})
    sheet = load_workbook(io.BytesIO(_file(storage, doc)), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    head = next(r for r in rows if r and r[0] == "#")
    assert len(head) == 3 + len(sessions) + 1
    body = {r[1]: r for r in rows if r and isinstance(r[0], int)}
    assert set(body) == {("'" + n if n == FORMULA else n) for n in ids}
    for name, statuses in expected.items():
        row = body["'" + name if name == FORMULA else name]
        assert [c or "" for c in row[3:3 + len(sessions)]] == statuses
        rate = _rate(statuses)
        assert (row[-1] is None and rate == "") or f"{round(row[-1])}%" == rate
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "-", "@")) for r in rows for c in r)


def test_totals_and_sign_off_stay_with_the_last_rows(sql, demo, storage, marked_session):
    """Issue 27, point 19: 17 rows leave no room for the totals under them on page 1; the last rows go over
    with the totals, so page 2 never holds totals under an empty table head."""
    session_id, _ids = marked_session
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    with pdfplumber.open(io.BytesIO(_file(storage, doc))) as document:
        pages = [page.extract_text() or "" for page in document.pages]
    assert len(pages) == 2
    assert "Total: 17" not in pages[0] and "Total: 17" in pages[1] and "Training provider" in pages[1]
    rows_on_last = re.findall(r"^(\d+) ", pages[1], flags=re.M)
    assert rows_on_last and rows_on_last[-1] == "17" and len(rows_on_last) >= 1


def test_a_right_to_left_name_keeps_its_row_number_in_the_number_column(sql, demo, storage, marked_session):
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=marked_session[0], format="pdf")
    with pdfplumber.open(io.BytesIO(_file(storage, doc))) as document:
        words = [w for page in document.pages for w in page.extract_words()]
    lines: dict[tuple[int, float], list[dict]] = {}
    for w in words:
        lines.setdefault((w.get("page_number", 0), round(w["top"])), []).append(w)
    numbered = {key: min(ws, key=lambda w: w["x0"]) for key, ws in lines.items()
                if min(ws, key=lambda w: w["x0"])["text"].isdigit()}
    number_x = sorted(w["x0"] for w in numbered.values())
    arabic = [ws for ws in lines.values() if any("\u0600" <= ch <= "\u06ff" for w in ws for ch in w["text"])]
    assert arabic, "the Arabic name is on the register"
    first = min(arabic[0], key=lambda w: w["x0"])
    assert first["text"].isdigit(), [w["text"] for w in sorted(arabic[0], key=lambda w: w["x0"])]
    assert abs(first["x0"] - number_x[len(number_x) // 2]) < 4  # in the # column, like every other row's


@pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")
def test_session_register_pdf_says_self_check_in_with_its_local_time(sql, demo, storage, app):
    """A learner's self check-in at 09:03 local (through the check-in service) prints "self check-in 09:03"."""
    from core import clock
    from core.checkin import codes
    from core.checkin import service as checkin
    from core.checkin.commands import CheckIn, CheckInContext, OpenCheckIn
    from core.models import ClassSession, User

    at = dt.datetime(2026, 11, 17, 8, 3, tzinfo=dt.UTC)  # 09:03 in Algiers, in the demo's 09:00–12:00 session
    session_id = sql.scalar(text("SELECT id FROM class_sessions WHERE cohort_id = :c AND starts_at <= :at "
                                 "AND ends_at > :at").bindparams(c=demo["public_cohort_id"], at=at))
    assert sql.get(ClassSession, session_id).start_time == dt.time(9)
    with clock.frozen_at(at):
        checkin.set_check_in(sql, sql.get(User, demo["users"]["teacher"]), session_id, OpenCheckIn(open=True),
                             app_secret="s")
        code = codes.code_at(codes.session_secret("s", session_id), codes.step_of(at))
        checkin.check_in(sql, sql.get(User, demo["users"]["learner"]), CheckIn(code=code), CheckInContext(),
                         app_secret="s")
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    assert doc.status.value == "READY", doc.error_message
    assert "Yacine Belkacem DEMO0000 Present self check-in 09:03" in _text(_file(storage, doc))
