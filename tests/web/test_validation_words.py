"""Words, not validator output (issue 27, point 8). Every form of every screen, sent invalid input, answers
with sentences that name the field as the form labels it, in the page's language, and never pydantic's own
English ("String should have at least 1 character", "Value error, …", "Input should be less than or equal to
2147483647"). The API keeps its `code` and field paths, with messages in the request's language. A refused
form keeps what was typed."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import update

from core.models import User
from tests.web.test_bad_input import RULES, send  # noqa: F401  (`send` is a fixture)

RAW = re.compile(r"should (have|be)|Input should|Value error|String should|Field required|Extra inputs|"
                 r"valid (integer|date|number|time)|validation error for|pydantic|type=", re.IGNORECASE)
INVALID = {
    "name": "", "full_name": "", "title": "", "code": "", "email": "not-an-email", "phone": "abc",
    "capacity": "99999999999", "level": "abc", "start_date": "2026-13-45", "end_date": "yesterday", "date": "nope",
    "from": "x", "to": "y", "reason": "", "expires_on": "someday", "qualification_id": "abc", "session_id": "abc",
    "cohort_id": "abc", "learner_ids": "a,b", "user_ids": "x", "format": "zip", "kind": "zzz", "relock_after": "soon",
    "status": "ZZZ", "time_zone": "Mars/Olympus", "slug": "!!", "role": "emperor", "language": "xx",
    "minutes_late": "-5", "expected_trainee_count": "99999999999", "weekdays": "funday", "start_time": "25:99",
    "end_time": "x", "default_language": "klingon", "id_number": "", "date_of_birth": "31/02/2020",
    "contact_phone": "abc", "contact_email": "x", "organization_id": "x", "institution_id": "x", "room_id": "x",
    "instructor_id": "x", "session_type": "NAP", "register_document_id": "x", "scope": "galaxy", "cohort_ids": "x",
    "agreement_id": "x", "days": "x", "slot": "9", "excluded_dates": "32/13", "q": "x" * 300,
}
SKIP = {"account.logout", "account.login", "account.password_forgot", "account.password_reset",
        "people.password_forgot", "people.password_reset"}
SCREEN_WRITES = sorted({e for e, m, _ in RULES if m == "POST" and e not in SKIP and not e.startswith("api")
                        and ".api_" not in e and e.split(".")[-1] not in ("logout",)})
API_WRITES = sorted({(e, m) for e, m, _ in RULES if m in ("POST", "PATCH", "PUT") and ".api_" in e})


def _visible_text(html: str) -> str:
    return re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)


@pytest.mark.parametrize("endpoint", SCREEN_WRITES)
def test_no_screen_shows_validator_output(send, endpoint):  # noqa: F811
    _method, url, response = send(endpoint, "POST", data=INVALID, follow_redirects=True)
    assert response.status_code < 500, (url, response.status_code)
    text = _visible_text(response.get_data(as_text=True))
    found = RAW.search(text)
    assert found is None, f"{url}: {text[max(0, found.start() - 120):found.end() + 120]!r}"


@pytest.mark.parametrize(("endpoint", "method"), API_WRITES)
def test_api_validation_errors_keep_code_and_fields_in_the_requests_language(send, endpoint, method):  # noqa: F811
    _method, url, response = send(endpoint, method, json=INVALID, environ_base={"HTTP_ACCEPT_LANGUAGE": "fr"})
    assert response.status_code < 500, (url, response.status_code)
    body = response.get_json(silent=True) or {}
    assert RAW.search(str(body)) is None, (url, body)
    error = body.get("error") or {}
    if error.get("code") == "validation_error":
        assert error["message"] == "Certaines valeurs de la requête ne sont pas acceptables.", (url, error)
        assert all("message" in d and "field" in d for d in error["details"]), (url, error)


def test_a_field_is_named_as_the_form_labels_it(client, api):
    r = client.post("/api/rooms", headers=api("admin"), json={"name": "", "capacity": 2**31})
    assert r.status_code == 422
    details = {d["field"]: d["message"] for d in r.get_json()["error"]["details"]}
    assert details["name"] == "Name is required."
    assert details["capacity"].startswith("Capacity must be at most ")


def test_the_same_refusal_in_arabic(client, api):
    r = client.post("/api/rooms", headers={**api("admin"), "Accept-Language": "ar"}, json={"name": ""})
    details = r.get_json()["error"]["details"]
    assert details[0]["field"] == "name" and details[0]["message"] == "الاسم مطلوب."


def test_a_refused_screen_form_keeps_what_was_typed(app, demo, login, sql):
    sql.execute(update(User).where(User.id == demo["users"]["admin"]).values(language="fr"))
    sql.commit()
    admin = login("admin")
    cohort = demo["public_cohort_id"]
    r = admin.post(f"/institution/attendance/cohorts/{cohort}/edit",
                   data={"name": "Soudure — Promo 2", "start_date": "2026-12-01", "end_date": "2026-11-01"},
                   headers={"Referer": f"/institution/attendance/cohorts/{cohort}"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    kept = json.loads(html.unescape(re.search(r'data-kept-form="([^"]*)"', page).group(1)))
    assert kept == {"action": f"/institution/attendance/cohorts/{cohort}/edit", "values": {
        "name": ["Soudure — Promo 2"], "start_date": ["2026-12-01"], "end_date": ["2026-11-01"]}}
    assert RAW.search(_visible_text(page)) is None
    again = admin.get(f"/institution/attendance/cohorts/{cohort}").get_data(as_text=True)
    assert "data-kept-form=" not in again  # once
