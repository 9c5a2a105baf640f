"""Deployment-safe HTTP: the client's real address behind trusted proxies, and security headers.

TRUSTED_PROXIES: "0" (default) trusts no proxy: X-Forwarded-* headers are ignored. A comma-separated list
of the proxies' addresses or networks trusts X-Forwarded-* only on requests that come from one of them.
A bare count N (trust the last N hops, Werkzeug's ProxyFix) is refused at start-up unless the server
binds to loopback only (LISTEN_ADDRESS): a client reaching the server directly would forge its address.

Signed-in pages and every JSON answer say `Cache-Control: no-store` (downloads keep their own headers).

Headers come from flask-talisman: a Content-Security-Policy with no inline script or style, HSTS on
HTTPS requests in production, Referrer-Policy, Permissions-Policy, X-Frame-Options, nosniff.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Bootstrap draws a few icons as data: SVG
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = {"camera": "()", "microphone": "()", "geolocation": "(self)", "payment": "()", "usb": "()"}

talisman = Talisman()


class TrustedProxies:
    """ProxyFix for requests from listed proxies only; hops = the trailing X-Forwarded-For entries they add."""

    def __init__(self, app: Any, networks: Iterable[str]) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()]

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self.trusted(environ.get("REMOTE_ADDR", "")):
            return self.app(environ, start_response)
        chain = [a for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        hops = 1
        while hops < len(chain) and self.trusted(chain[-hops]):
            hops += 1  # a trusted proxy forwarded it: the client is further left
        return ProxyFix(self.app, x_for=hops, x_proto=1, x_host=1, x_port=1, x_prefix=1)(environ, start_response)


def is_loopback(address: str) -> bool:
    """`127.0.0.1`, `::1`, `localhost` (a host name other than localhost, or 0.0.0.0, is not loopback only)."""
    host = address.strip().rsplit(":", 1)[0] if address.count(":") == 1 else address.strip()
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trust_proxies(app: Flask) -> None:
    setting = str(app.config.get("TRUSTED_PROXIES", "0")).strip()
    if setting.isdecimal():
        if int(setting) > 0:
            if not is_loopback(str(app.config.get("LISTEN_ADDRESS", ""))):
                raise RuntimeError(
                    f"TRUSTED_PROXIES={setting} trusts a count of hops, which any client reaching the server "
                    f"directly can forge; the server listens on {app.config.get('LISTEN_ADDRESS')!r}. "
                    "Give the proxies' addresses or networks instead (TRUSTED_PROXIES=10.0.0.2,10.0.1.0/24), "
                    "or bind to loopback only (LISTEN_ADDRESS=127.0.0.1).")
            n = int(setting)
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]
    elif setting:
        app.wsgi_app = TrustedProxies(app.wsgi_app, setting.split(","))  # type: ignore[method-assign]


def no_store(response: Response) -> Response:
    """`Cache-Control: no-store` on JSON answers and on pages shown to a signed-in user: neither a shared
    cache nor the browser's history keeps them. Downloads (an attachment) keep the headers their view set."""
    if "Content-Disposition" in response.headers:
        return response
    signed_in = bool(getattr(g.get("_login_user"), "is_authenticated", False))
    if response.mimetype == "application/json" or (signed_in and response.mimetype == "text/html"):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_security(app: Flask) -> None:
    trust_proxies(app)
    app.after_request(no_store)
    production = app.config["APP_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=production,  # sent on HTTPS requests (direct, or via a trusted proxy)
        strict_transport_security_include_subdomains=False,
        content_security_policy=CSP,
        permissions_policy=PERMISSIONS_POLICY,
        feature_policy={},
        frame_options="DENY",
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
    )
