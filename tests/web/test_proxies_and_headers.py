"""Behind a reverse proxy: X-Forwarded-* is honoured only when TRUSTED_PROXIES says so; security headers."""

from __future__ import annotations

import pytest
from flask import jsonify, request

from tests.conftest import test_settings

FORWARDED = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "att.example"}


def _app(**settings):
    """An app with a probe route that answers what it sees of the client (address, scheme, host)."""
    from web import create_app
    from web.auth import public

    app = create_app(test_settings(**settings))

    @app.get("/_whoami")
    @public
    def whoami():
        return jsonify(addr=request.remote_addr, scheme=request.scheme, host=request.host)

    return app


def _seen(app, remote: str = "10.0.0.2") -> dict[str, str]:
    return app.test_client().get("/_whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": remote}).json


def test_forwarded_headers_are_ignored_by_default():
    assert _seen(_app()) == {"addr": "10.0.0.2", "scheme": "http", "host": "localhost"}


def test_a_trusted_proxy_count_gives_the_client_address_scheme_and_host():
    assert _seen(_app(TRUSTED_PROXIES="1")) == {"addr": "198.51.100.23", "scheme": "https", "host": "att.example"}


def test_a_listed_proxy_is_trusted_and_others_are_not():
    app = _app(TRUSTED_PROXIES="10.0.0.0/24, 192.0.2.1")
    assert _seen(app, remote="10.0.0.2") == {"addr": "198.51.100.23", "scheme": "https", "host": "att.example"}
    assert _seen(app, remote="203.0.113.9") == {"addr": "203.0.113.9", "scheme": "http", "host": "localhost"}


def test_sign_in_throttling_keys_on_the_forwarded_address_only_behind_a_trusted_proxy(demo):
    app = _app(TRUSTED_PROXIES="1", LOGIN_FREE_FAILURES=0)
    client = app.test_client()
    bad = client.post("/login", data={"email": "admin@demo.example", "password": "nope-nope-nope"},
                      headers={"X-Forwarded-For": "198.51.100.50"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert bad.status_code == 401
    # Same proxy, another user's address: not slowed down by the first one's failure.
    good = client.post("/login", data={"email": "admin@demo.example", "password": "demo-password"},
                       headers={"X-Forwarded-For": "198.51.100.51"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert good.status_code == 302


@pytest.mark.parametrize("path", ["/login", "/api/health"])
def test_security_headers_are_set(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # development, plain HTTP


def test_production_sends_hsts_on_https(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("SEAL_KEY_SECRET", "y" * 32)
    app = _app()
    response = app.test_client().get("/login", base_url="https://att.example")
    assert int(response.headers["Strict-Transport-Security"].split("=")[1]) >= 365 * 24 * 3600
