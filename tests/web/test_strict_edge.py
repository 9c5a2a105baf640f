"""A stricter edge: authentication before CSRF, no-store on private answers, `__Host-` cookies in production,
proxy trust by address only (a hop count needs a loopback-only server)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import test_settings


def _app(**settings):
    from web import create_app

    return create_app(test_settings(**settings))


def test_an_unauthenticated_unsafe_api_call_is_401_not_a_csrf_refusal():
    client = _app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/api/system/ping")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthenticated"


def test_a_cookie_session_still_needs_the_csrf_token(demo):
    client = _app(WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    signed = client.post("/login", data={"email": "admin@demo.example", "password": "demo-password",
                                         "csrf_token": token})
    assert signed.status_code == 302
    response = client.post("/api/system/ping")
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf_failed"


def test_a_signed_in_json_answer_is_not_stored(client, api):
    assert client.get("/api/me", headers=api("admin")).headers["Cache-Control"] == "no-store"


def test_a_signed_in_page_is_not_stored(demo):
    client = _app().test_client()
    client.post("/login", data={"email": "admin@demo.example", "password": "demo-password"})
    assert client.get("/admin").headers["Cache-Control"] == "no-store"


def test_an_anonymous_page_may_be_stored(client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_production_cookies_carry_the_host_prefix(monkeypatch, demo):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("SEAL_KEY_SECRET", "y" * 32)
    client = _app(SQLALCHEMY_DATABASE_URI=test_settings()["SQLALCHEMY_DATABASE_URI"]).test_client()
    response = client.post("/login", data={"email": "admin@demo.example", "password": "demo-password"},
                           base_url="https://att.example")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session="))
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_a_hop_count_is_refused_at_start_up_when_the_server_listens_beyond_loopback():
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        _app(TRUSTED_PROXIES="1", LISTEN_ADDRESS="0.0.0.0")


def test_a_hop_count_is_accepted_on_a_loopback_only_server():
    assert _app(TRUSTED_PROXIES="1", LISTEN_ADDRESS="127.0.0.1:8000")


def test_proxy_addresses_are_accepted_whatever_the_server_listens_on():
    assert _app(TRUSTED_PROXIES="10.0.0.0/24", LISTEN_ADDRESS="0.0.0.0")


def test_liveness_does_not_touch_the_database():
    # A database that cannot be reached at all: liveness still answers.
    client = _app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:9/none").test_client()
    assert client.get("/api/health").status_code == 200


def test_the_description_says_an_upload_needs_its_file(client):
    doc = client.get("/api/openapi.json").json
    body = doc["paths"]["/api/corporate-cohorts/{cohort_id}/trainee-imports"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]] if "$ref" in schema else schema
    assert schema["required"] == ["file"]


def test_a_missing_upload_file_still_gets_the_views_own_error(client, api, demo):
    response = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports",
                           headers=api("admin"), data={}, content_type="multipart/form-data")
    assert response.status_code in (400, 422) and response.json["error"]["code"] != "validation_error"
