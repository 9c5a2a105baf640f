"""Sign-in, sign-out, throttling and tokens, through the real app and database."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from tests.conftest import sign_in

HOMES = {
    "super": "/admin", "admin": "/admin", "support": "/admin", "teacher": "/teacher",
    "org": "/org/programs", "regulator": "/regulator", "learner": "/me",
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


def _from(client, address: str, password: str, email: str = "admin@demo.example"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_from_one_address_bring_growing_delays(client, demo):
    start = clock.now()
    with clock.frozen_at(start):
        for _ in range(3):  # free failures
            assert _from(client, "198.51.100.7", "nope-nope-nope").status_code == 401
        first = _from(client, "198.51.100.7", "demo-password")
        assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    with clock.frozen_at(start + dt.timedelta(seconds=2)):
        assert _from(client, "198.51.100.7", "nope-nope-nope").status_code == 401  # the 4th failure
        assert _from(client, "198.51.100.7", "demo-password").headers["Retry-After"] == "2"
    with clock.frozen_at(start + dt.timedelta(seconds=5)):
        assert _from(client, "198.51.100.7", "demo-password").status_code == 302  # waited: the right one works


def test_a_third_party_guessing_never_locks_the_owner_out_from_another_address(client, demo):
    with clock.frozen_at(clock.now()):
        for _ in range(40):
            _from(client, "203.0.113.66", "guess-guess-guess")
        assert _from(client, "203.0.113.66", "demo-password").status_code == 429
        assert _from(client, "192.0.2.10", "demo-password").status_code == 302


def test_one_address_guessing_many_accounts_meets_the_ceiling(app, client, demo):
    app.config["LOGIN_ADDRESS_CEILING"] = 5
    try:
        with clock.frozen_at(clock.now()):
            for n in range(5):
                _from(client, "203.0.113.77", "guess-guess-guess", email=f"nobody{n}@demo.example")
            refused = _from(client, "203.0.113.77", "demo-password")
            assert refused.status_code == 429 and b"from this network" in refused.data
            assert _from(client, "192.0.2.11", "demo-password").status_code == 302
    finally:
        app.config["LOGIN_ADDRESS_CEILING"] = 300


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
