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

from core.collation import sort_key
from core.models import RegisterDocument
from core.registers import pdf as register_pdf
from core.registers import service
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
