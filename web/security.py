"""Deployment-safe HTTP: the client's real address behind trusted proxies, and security headers.

TRUSTED_PROXIES: "0" (default) trusts no proxy: X-Forwarded-* headers are ignored. A number N trusts N
proxies in front of the app (Werkzeug's ProxyFix). A comma-separated list of addresses or networks
trusts X-Forwarded-* only on requests that come from one of them.

Headers come from flask-talisman: a Content-Security-Policy with no inline script or style, HSTS on
HTTPS requests in production, Referrer-Policy, Permissions-Policy, X-Frame-Options, nosniff.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Flask
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


def trust_proxies(app: Flask) -> None:
    setting = str(app.config.get("TRUSTED_PROXIES", "0")).strip()
    if setting.isdecimal():
        if int(setting) > 0:
            n = int(setting)
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]
    elif setting:
        app.wsgi_app = TrustedProxies(app.wsgi_app, setting.split(","))  # type: ignore[method-assign]


def init_security(app: Flask) -> None:
    trust_proxies(app)
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
