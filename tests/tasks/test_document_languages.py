"""Document languages through the API and the real worker: `"language"` in the request body (declared, so a
bad value is a 422 with nothing written), else the institution's default; register PDFs and organization
reports read back (pdfplumber, pypdf, openpyxl)."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from pathlib import Path

import pdfplumber
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from core import clock
from core.collation import sort_key
from core.i18n import words as catalogue_words
from core.models import CorporateTrainee, Institution, RegisterDocument
from tests.attendance_factories import make_session
from tests.portal_factories import built_report
from tests.registers_factories import wait_until_built

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"
ARABIC_AND_ACCENTED = ["Émile Dupont", "أحمد", "Zoé Martin", "عمر", "Élodie Zérouali"]


def _set_default_language(sql, institution_id: int, language: str) -> None:
    sql.get(Institution, institution_id).default_language = language
    sql.commit()


def _pdf_language(data: bytes) -> str:
    return str(PdfReader(io.BytesIO(data)).trailer["/Root"]["/Lang"])


def _words(data: bytes) -> list[dict]:
    with pdfplumber.open(io.BytesIO(data)) as document:
        return [{**w, "text": unicodedata.normalize("NFKC", w["text"])}
                for page in document.pages for w in page.extract_words()]


def _find(words: list[dict], text: str) -> dict:
    return next(w for w in words if w["text"] in (text, text[::-1]))  # Arabic comes back in visual order


def _heading(words: list[dict], msgid: str, language: str) -> dict:
    """A column heading as the document's language says it (its longest word: the one least likely to stand
    elsewhere on the page)."""
    said = catalogue_words(str(TRANSLATIONS), language).gettext(msgid)
    return _find(words, max(said.split(), key=len))


def _documents(sql) -> int:
    sql.rollback()
    return sql.scalar(select(func.count()).select_from(RegisterDocument)) or 0


# --- registers --------------------------------------------------------------------------------------------------

def test_a_register_asked_in_french_is_built_in_french_by_the_worker(client, api, live_worker, sql, demo):
    session_id = make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers") - dt.timedelta(days=1),
                              dt.time(18), dt.time(19))
    admin = api("admin")
    asked = client.post("/api/registers", headers=admin,
                        json={"kind": "session", "session_id": session_id, "language": "fr"})
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["language"] == "fr"
    done = wait_until_built(client, asked.get_json()["status_url"], admin)
    assert done["status"] == "READY" and done["language"] == "fr", done
    assert _pdf_language(client.get(done["download_url"], headers=admin).data) == "fr"
    # Without a language: the institution's default (English here), a document of its own.
    default = client.post("/api/registers", headers=admin, json={"kind": "session", "session_id": session_id})
    assert default.get_json()["language"] == "en" and default.get_json()["id"] != done["id"]


@pytest.mark.parametrize("language", ["de", "FR", "", 12, "ar-EG"])
def test_a_register_in_another_language_is_refused(client, api, sql, demo, language):
    session_id = make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers") - dt.timedelta(days=1),
                              dt.time(18), dt.time(19))
    refused = client.post("/api/registers", headers=api("admin"),
                          json={"kind": "session", "session_id": session_id, "language": language})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] and "language" in str(refused.get_json()["error"]["details"])
    assert _documents(sql) == 0


# --- organization reports ---------------------------------------------------------------------------------------

@pytest.fixture
def named_trainees(sql, demo) -> list[str]:
    cohort_id = demo["corporate_cohort_id"]
    sql.add_all([CorporateTrainee(cohort_id=cohort_id, full_name=name, employee_code=f"AR{i}")
                 for i, name in enumerate(ARABIC_AND_ACCENTED)])
    sql.commit()
    return list(sql.scalars(select(CorporateTrainee.full_name).where(CorporateTrainee.cohort_id == cohort_id,
                                                                     CorporateTrainee.active.is_(True))))


def test_an_arabic_institutions_progress_report_runs_right_to_left_in_arabic_order(client, api, live_worker, sql,
                                                                                    demo, named_trainees):
    _set_default_language(sql, demo["institution_id"], "ar")
    headers = api("org")
    report = built_report(client, headers, demo["corporate_cohort_id"], kind="progress", format="pdf")
    assert report["language"] == "ar"
    data = client.get(report["download_url"], headers=headers).data
    assert _pdf_language(data) == "ar"
    words = _words(data)
    # Columns from the right: the trainee's name, then the employee code; headers aligned to the start (right).
    trainee, code = _heading(words, "Trainee", "ar"), _heading(words, "Employee code", "ar")
    assert trainee["x0"] > code["x1"]
    first = _find(words, "أحمد")
    assert abs(trainee["x1"] - first["x1"]) < 1.5
    tops = {name: _find(words, name.split()[0])["top"] for name in named_trainees}
    printed = sorted(named_trainees, key=lambda name: (tops[name], name))
    assert printed == sorted(named_trainees, key=sort_key("ar"))
    assert printed.index("Élodie Zérouali") < printed.index("Émile Dupont") < printed.index("Zoé Martin")


def test_a_report_asked_in_arabic_from_an_english_institution_is_an_arabic_sheet(client, api, live_worker, sql, demo,
                                                                                named_trainees):
    _set_default_language(sql, demo["institution_id"], "en")
    headers = api("org")
    report = built_report(client, headers, demo["corporate_cohort_id"], kind="progress", format="xlsx",
                          language="ar")
    assert report["language"] == "ar"
    sheet = load_workbook(io.BytesIO(client.get(report["download_url"], headers=headers).data)).active
    assert sheet.sheet_view.rightToLeft is True
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    arabic = catalogue_words(str(TRANSLATIONS), "ar")
    header = next(i for i, row in enumerate(rows)
                  if row[:2] == [arabic.gettext("Trainee"), arabic.gettext("Employee code")])
    listed = [row[0] for row in rows[header + 1:] if row[0]]
    assert listed == sorted(named_trainees, key=sort_key("ar"))


@pytest.mark.parametrize("language", ["de", "english", "", 7])
def test_a_report_in_another_language_is_refused(client, api, sql, demo, language):
    asked = client.post(f"/api/org/programs/{demo['corporate_cohort_id']}/reports", headers=api("org"),
                        json={"kind": "delivery", "format": "pdf", "language": language})
    assert asked.status_code == 422
    assert "language" in str(asked.get_json()["error"]["details"])
    assert _documents(sql) == 0


def test_a_report_with_a_null_language_is_in_the_institutions_default(client, api, sql, demo):
    _set_default_language(sql, demo["institution_id"], "fr")
    asked = client.post(f"/api/org/programs/{demo['corporate_cohort_id']}/reports", headers=api("org"),
                        json={"kind": "delivery", "format": "pdf", "language": None})
    assert asked.status_code == 202 and asked.get_json()["language"] == "fr"
