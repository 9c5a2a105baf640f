"""Sign-in, sign-out, throttling and tokens, through the real app and database."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in

HOMES = {
    "super": "/admin", "admin": "/admin", "support": "/admin", "teacher": "/teacher",
    "org": "/org/programs", "regulator": "/regulator",
}


@pytest.mark.parametrize(("name", "home"), HOMES.items())
def test_each_demo_role_lands_on_its_home_screen(client, demo, name, home):
    response = sign_in(client, f"{name}@demo.example")
    assert response.status_code == 302 and response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_login_page_answers(client, app):
    assert client.get("/login").status_code == 200


def test_wrong_password_is_refused_with_a_message(client, demo):
    response = sign_in(client, "admin@demo.example", "wrong-password")
    assert response.status_code == 401 and b"Wrong email or password" in response.data


def test_repeated_failures_get_429(client, demo):
    for _ in range(5):
        assert sign_in(client, "admin@demo.example", "nope-nope-nope").status_code == 401
    response = sign_in(client, "admin@demo.example", "demo-password")
    assert response.status_code == 429 and response.headers["Retry-After"]


def test_signing_out_makes_a_replayed_cookie_worthless(app, demo):
    client = app.test_client()
    sign_in(client, "admin@demo.example")
    stolen = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/admin").status_code == 302  # back to sign-in


def test_session_cookie_is_httponly_and_samesite(client, demo):
    response = sign_in(client, "admin@demo.example")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_after_sign_in_is_refused(client, demo):
    response = client.post("/login?next=//evil.example/x",
                           data={"email": "admin@demo.example", "password": "demo-password"})
    assert response.headers["Location"] == "/admin"


def test_api_without_credentials_is_401_json(client, app):
    response = client.get("/api/me")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthenticated"


def test_api_token_authenticates(client, api):
    response = client.get("/api/me", headers=api("teacher"))
    assert response.status_code == 200 and response.json["role"] == "teacher"


def test_bad_api_token_is_401(client, demo):
    assert client.get("/api/me", headers={"Authorization": "Bearer tap_nope"}).status_code == 401


def test_revoked_token_stops_working(app, login, client, api):
    headers = api("admin")
    admin = login("admin")
    from core.models import ApiToken
    from web.extensions import db

    with app.app_context():
        token_id = db.session.query(ApiToken.id).scalar()
    assert admin.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/me", headers=headers).status_code == 401


def test_profile_creates_a_token_shown_once(login):
    admin = login("admin")
    response = admin.post("/profile/tokens", data={"name": "uploader"})
    assert response.status_code == 200 and b"tap_" in response.data


def test_unknown_api_route_is_json_404(client, api):
    response = client.get("/api/nothing-here", headers=api("admin"))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_forms_require_csrf_when_enabled(app, demo):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = app.test_client().post("/login", data={"email": "admin@demo.example", "password": "demo-password"})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_token_requests_skip_csrf(app, api):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = app.test_client().post("/api/system/ping", headers=api("admin"))
        assert response.status_code == 202
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
