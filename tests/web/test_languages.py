"""Languages on screens and in the API: which language a request gets, and that the page says it in it.

Order: the sign-in page's switcher (?lang=, kept until sign-in), the user's own preference (Profile), the
browser's Accept-Language, the institution's default language, English.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import update

from core.models import Institution, User
from tests.conftest import sign_in


def _html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def _catalogue(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'<body data-i18n="([^"]*)">', page).group(1)))


def _set(sql, model, row_id: int, **values) -> None:
    sql.execute(update(model).where(model.id == row_id).values(**values))
    sql.commit()


def test_sign_in_page_in_french_when_the_browser_asks_for_it(client, demo):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert _html_tag(page) == '<html lang="fr" dir="ltr">'
    assert "<h1 class=\"h3 mb-3\">Se connecter</h1>" in page and "Mot de passe oublié ?" in page
    assert ">Mot de passe</label>" in page  # a Flask-WTF label


def test_sign_in_page_in_arabic_is_right_to_left_with_bootstrap_rtl(client, demo):
    response = client.get("/login", headers={"Accept-Language": "ar"})
    page = response.get_data(as_text=True)
    assert _html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "vendor/bootstrap/bootstrap.rtl.min.css" in page and "bootstrap.min.css" not in page
    assert "تسجيل الدخول" in page
    assert response.headers["Content-Language"] == "ar" and "Accept-Language" in response.headers["Vary"]
    rtl = client.get("/static/vendor/bootstrap/bootstrap.rtl.min.css")
    assert rtl.status_code == 200 and b"Bootstrap" in rtl.data[:200]
    rtl.close()


def test_english_stays_the_default(client, demo):
    page = client.get("/login").get_data(as_text=True)
    assert _html_tag(page) == '<html lang="en" dir="ltr">' and ">Sign in</h1>" in page


def test_the_switcher_on_the_sign_in_page_is_kept_until_sign_in_and_after(app, client, demo):
    page = client.get("/login?lang=ar", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="ar"' in _html_tag(page)
    for code, name in (("en", "English"), ("fr", "Français")):
        assert f'hreflang="{code}">{name}</a>' in page  # the other languages, each in its own words
    # The choice sticks for the next pages, over the browser's language…
    assert 'lang="ar"' in _html_tag(client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True))
    # …and through sign-in, for a user who has chosen no language of their own.
    assert sign_in(client, "teacher@demo.example").status_code == 302
    home = client.get("/institution/sessions", headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert 'lang="ar"' in _html_tag(home.get_data(as_text=True))


def test_profile_preference_beats_accept_language_which_beats_the_institution_default(login, sql, demo):
    _set(sql, Institution, demo["institution_id"], default_language="ar")
    teacher = login("teacher")
    page = teacher.get("/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="en"' in _html_tag(page)  # the browser's language beats the institution's default
    page = teacher.get("/profile", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'lang="ar"' in _html_tag(page)  # a language we don't have: the institution's default
    page = teacher.get("/profile").get_data(as_text=True)
    assert 'lang="ar"' in _html_tag(page)  # no Accept-Language at all: the same
    saved = teacher.post("/profile/language", data={"language": "fr"}, headers={"Accept-Language": "en"},
                         follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert 'lang="fr"' in _html_tag(page) and "Langue enregistrée." in page  # the preference beats the browser
    assert sql.get(User, demo["users"]["teacher"]).language == "fr"
    assert '<option value="fr" lang="fr" selected>Français</option>' in page
    # Back to "as my browser asks": Accept-Language decides again.
    teacher.post("/profile/language", data={"language": ""})
    sql.expire_all()
    assert sql.get(User, demo["users"]["teacher"]).language is None
    page = teacher.get("/profile", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="fr"' in _html_tag(page)


def test_an_unknown_language_choice_is_refused(login, sql, demo):
    response = login("teacher").post("/profile/language", data={"language": "xx"}, headers={"Referer": "/profile"})
    assert response.status_code in (302, 422)
    assert sql.get(User, demo["users"]["teacher"]).language is None


def test_the_sign_in_page_takes_the_only_institutions_default(client, sql, demo):
    _set(sql, Institution, demo["institution_id"], default_language="fr")
    assert 'lang="fr"' in _html_tag(client.get("/login").get_data(as_text=True))
    assert 'lang="en"' in _html_tag(client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True))


@pytest.mark.parametrize(("language", "message"), [
    ("fr", "Import introuvable."), ("ar", "عملية الاستيراد غير موجودة."), ("en", "No such import.")])
def test_api_error_messages_follow_accept_language_and_codes_stay(client, api, demo, language, message):
    response = client.get("/api/trainee-imports/999999", headers={**api("admin"), "Accept-Language": language})
    assert response.status_code == 404
    assert response.get_json()["error"] == {"code": "not_found", "message": message}


def test_api_errors_with_values_are_translated_then_filled_in(client, api, demo):
    response = client.get("/api/institution/attendance/calendar?start=2031-01-01&end=2032-06-01",
                          headers={**api("admin"), "Accept-Language": "fr"})
    body = response.get_json()["error"]
    assert response.status_code == 422 and body["code"] == "invalid_window"
    assert re.fullmatch(r"Une période de calendrier dure au plus \d+ jours\.", body["message"])
    invalid = client.get("/api/rooms?page=abc", headers={**api("admin"), "Accept-Language": "ar"}).get_json()["error"]
    assert invalid["code"] == "validation_error" and invalid["message"] == "بعض قيم الطلب غير مقبولة."
    anonymous = client.get("/api/rooms", headers={"Accept-Language": "fr"}).get_json()["error"]
    assert anonymous == {"code": "unauthenticated", "message": "Connectez-vous ou envoyez un jeton d'API valide."}
    unknown = client.get("/api/no-such-thing", headers={"Accept-Language": "fr"}).get_json()["error"]
    assert unknown == {"code": "not_found", "message": "Introuvable."}  # Werkzeug's own 404, in French


def test_a_page_sends_its_scripts_their_words_and_plural_rules(client, demo):
    data = _catalogue(client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True))
    assert data["lang"] == "ar"
    assert data["messages"]["All changes saved"] == "حُفظت جميع التغييرات"
    assert len(data["messages"]["Saving %(num)s change…"]) == 6  # every Arabic plural form
    assert data["plural"] == {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 4, "other": 5}
    french = _catalogue(client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True))
    assert french["plural"]["one"] == 0 and french["plural"]["other"] == 1
    assert french["messages"]["saving…"] == "enregistrement…"


def test_dates_and_statuses_read_in_the_page_language(login, demo):
    page = login("admin").get(f"/admin/cohorts/{demo['corporate_cohort_id']}/sessions",
                              headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Séances planifiées" in page and "Générer un planning" in page
    assert re.search(r"<td>(lun|mar|mer|jeu|ven|sam|dim)\. \d\d [a-zéû]+\.? \d{4}</td>", page)  # Babel's French days
    arabic = login("admin").get(f"/admin/cohorts/{demo['corporate_cohort_id']}/sessions",
                                headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "الحصص المبرمجة" in arabic and "Scheduled sessions" not in arabic


def test_a_refused_plan_says_its_problems_in_french(login, demo):
    form = {"start_date": "2031-03-10", "end_date": "2031-03-14", "slot1_start": "12:00", "slot1_end": "09:00",
            "slot1_type": "PRACTICAL", "on_conflict": "skip"}  # no weekday, and a slot that ends before it starts
    page = login("admin").post(f"/admin/cohorts/{demo['public_cohort_id']}/sessions/preview", data=form,
                               headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Le plan comporte des problèmes." in text and "Choisissez au moins un jour de la semaine." in text
    assert "Le créneau 1 se termine avant de commencer." in text and "Choose at least one weekday." not in text
