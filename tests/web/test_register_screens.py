"""Register documents from the screens and the API (issue 27): built in the requester's language, listed with
their language and dates, verified by a typed reference or code, submitted only when that can succeed, and
refused when nobody is on them."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from pathlib import Path

import pdfplumber
import pytest
from babel.support import Translations
from sqlalchemy import select, update

from core.access.auth import create_api_token
from core.access.commands import CreateApiToken
from core.models import RegisterDocument, User
from core.registers import service
from core.storage import PrivateStorage
from tests.attendance_factories import started_open_session
from tests.portal_factories import second_institution
from tests.registers_factories import add_learners, build, past_session

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


@pytest.fixture
def storage(tmp_path):
    return PrivateStorage(tmp_path / "private")


def _speaks(sql, user_id: int, language: str | None) -> None:
    sql.execute(update(User).where(User.id == user_id).values(language=language))
    sql.commit()


def _latest(sql) -> RegisterDocument:
    return sql.scalar(select(RegisterDocument).order_by(RegisterDocument.id.desc()).limit(1))


def _pdf_text(storage, doc) -> str:
    with storage.open(doc.storage_key) as f, pdfplumber.open(io.BytesIO(f.read())) as pdf:
        return unicodedata.normalize("NFKC", "\n".join(page.extract_text() or "" for page in pdf.pages))


def test_a_french_speaking_admin_gets_a_french_register_pdf_from_the_screen(sql, demo, login, storage):
    _speaks(sql, demo["users"]["admin"], "fr")
    session_id, _day = past_session(sql, demo["public_cohort_id"])
    admin = login("admin")
    page = admin.get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
    assert re.search(r'<option value="fr" lang="fr" selected>', page)  # the language choice starts at theirs
    r = admin.post("/institution/registers", data={"kind": "session", "session_id": session_id, "format": "pdf"})
    assert r.status_code == 302
    doc = _latest(sql)
    assert doc.language == "fr"
    built = service.build_document(sql, storage, doc.id, service.BuildSettings(
        base_url="http://testserver", translations_dir=str(TRANSLATIONS), processes=1))
    text = _pdf_text(storage, built)
    french = Translations.load(str(TRANSLATIONS), ["fr"])
    for word in ("Attendance register", "Trainee", "Status"):
        assert french.gettext(word) != word and french.gettext(word) in text, word
    assert "Trainee" not in text
    listed = admin.get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
    assert f'{doc.reference}</span>\n        · <span class="doc-language" lang="fr">Français</span>' in listed


def test_a_language_chosen_on_the_screen_wins_over_the_profile(sql, demo, login):
    _speaks(sql, demo["users"]["admin"], "fr")
    session_id, _day = past_session(sql, demo["public_cohort_id"])
    login("admin").post("/institution/registers", data={"kind": "session", "session_id": session_id,
                                                        "format": "csv", "language": "ar"})
    assert _latest(sql).language == "ar"


def test_an_api_request_without_language_follows_accept_language_then_the_profile(sql, demo, api, client):
    _speaks(sql, demo["users"]["admin"], "fr")
    session_id, _day = past_session(sql, demo["public_cohort_id"])
    headers = api("admin")
    body = {"kind": "session", "session_id": session_id, "format": "csv"}
    arabic = client.post("/api/registers", json=body, headers={**headers, "Accept-Language": "ar"})
    assert arabic.status_code == 202 and arabic.json["language"] == "ar"
    profile = client.post("/api/registers", json={**body, "format": "xlsx"}, headers=headers)
    assert profile.status_code == 202 and profile.json["language"] == "fr"
    named = client.post("/api/registers", json={**body, "format": "pdf", "language": "en"},
                        headers={**headers, "Accept-Language": "ar"})
    assert named.json["language"] == "en"


def test_a_cohort_register_is_listed_with_its_language_and_dates(sql, demo, login, api, client):
    cohort = demo["public_cohort_id"]
    past_session(sql, cohort)
    r = client.post("/api/registers", headers={**api("admin"), "Accept-Language": "fr"},
                    json={"kind": "cohort", "cohort_id": cohort, "from": "2026-11-02", "to": "2026-11-16",
                          "format": "csv"})
    assert r.status_code == 202, r.json
    page = login("admin").get(f"/institution/cohorts/{cohort}/registers").get_data(as_text=True)
    assert 'lang="fr">Français</span>' in page
    assert '<span class="doc-period">2 Nov 2026 – 16 Nov 2026</span>' in page


# --- verification ----------------------------------------------------------------------------------------------

@pytest.fixture
def issued(sql, demo, storage):
    session_id, _day = past_session(sql, demo["public_cohort_id"])
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="csv")
    assert doc.status.value == "READY", doc.error_message
    return doc


def test_the_verify_page_has_a_box_for_a_reference(client, issued):
    page = client.get("/verify").get_data(as_text=True)
    assert '<input class="form-control" id="verify-reference" name="reference" required' in page
    assert "it is not stored" in page and "never leaves" not in page


def test_a_typed_reference_is_found_however_it_was_typed(client, issued):
    typed = issued.reference.lower().replace("-", " ")
    r = client.get("/verify", query_string={"reference": typed})
    assert r.status_code == 200
    assert f"Reference {issued.reference} was issued by Demo Training Institute." in r.get_data(as_text=True)


def test_the_verification_code_printed_on_the_document_also_works(client, issued):
    r = client.get("/verify", query_string={"reference": issued.verification_code.lower()})
    assert r.status_code == 200 and issued.reference in r.get_data(as_text=True)
    assert client.get(f"/verify/{issued.verification_code}").status_code == 200


def test_an_unknown_reference_or_code_is_not_found(client, issued):
    r = client.get("/verify", query_string={"reference": "ZZZZ2345"})
    assert r.status_code == 404 and "reference or verification code" in r.get_data(as_text=True)


def test_the_issue_time_is_in_the_institutions_zone(client, issued, sql):
    sql.execute(update(RegisterDocument).where(RegisterDocument.id == issued.id)
                .values(finished_at=dt.datetime(2026, 11, 16, 22, 30, tzinfo=dt.UTC)))
    sql.commit()
    page = client.get(f"/verify/{issued.reference}").get_data(as_text=True)
    assert 'Issued</dt><dd class="col-sm-9"><bdi dir="ltr">Nov 16, 2026 23:30</bdi>' in page  # Algiers, UTC+1


# --- submission --------------------------------------------------------------------------------------------------

def test_submit_is_offered_only_when_every_session_is_locked(sql, demo, login, storage):
    cohort = demo["public_cohort_id"]
    open_id = started_open_session(sql, cohort)
    locked_id, _day = past_session(sql, cohort, days_ago=3)
    for session_id in (open_id, locked_id):
        build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="csv")
    admin = login("admin")
    open_page = admin.get(f"/institution/attendance/sessions/{open_id}").get_data(as_text=True)
    assert ">Submit</button>" not in open_page
    assert "it can be submitted once every session it covers is locked" in open_page
    locked_page = admin.get(f"/institution/attendance/sessions/{locked_id}").get_data(as_text=True)
    assert ">Submit</button>" in locked_page and "submit-blocked" not in locked_page


def test_a_register_with_nobody_enrolled_on_its_dates_is_refused_with_a_reason(sql, demo, api, client):
    other = second_institution(sql)
    session_id, _day = past_session(sql, other["cohort_id"])
    token = create_api_token(sql, sql.get(User, other["admin_id"]), CreateApiToken(name="t"))
    r = client.post("/api/registers", json={"kind": "session", "session_id": session_id},
                    headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr"})
    assert r.status_code == 422 and r.json["error"]["code"] == "register_empty"
    assert r.json["error"]["message"].startswith("Personne ne figure sur ce registre")
    add_learners(sql, other["cohort_id"], other["institution_id"], ["Omar Other"])
    again = client.post("/api/registers", json={"kind": "session", "session_id": session_id},
                        headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 202
