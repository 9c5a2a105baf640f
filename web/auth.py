"""Authentication (session cookie or Bearer token) and the one permission check every view uses.

Every view is wrapped by exactly one of `public`, `signed_in` or `requires(permission)`; the test
suite walks the URL map and fails for any endpoint without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import auth as auth_service
from core.access import token_cache
from core.access.permissions import ALL_PERMISSIONS
from core.access.scoping import can
from core.models import Role, User

from .errors import error_response, is_api_request
from .extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable[..., Any])

HOME_BY_ROLE = {
    Role.SUPER_ADMIN: "home.admin_home",
    Role.ADMIN: "home.admin_home",
    Role.SUPPORT: "home.admin_home",
    Role.TEACHER: "home.teacher_home",
    Role.ORG_MEMBER: "portals.org_programs",
    Role.REGULATOR: "access.regulator_home",
    Role.LEARNER: "me.home",
}


@dataclass(frozen=True)
class AccessRule:
    kind: str  # "public" | "signed_in" | "permission"
    permission: str | None = None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def _unauthenticated() -> Any:
    if is_api_request():
        return jsonify(error={"code": "unauthenticated", "message": _("Sign in or send a valid API token.")}), 401
    return redirect(url_for("account.login", next=request.full_path if request.query_string else request.path))


def _forbidden() -> Any:
    if current_user.role == Role.LEARNER:  # a learner is not told that staff pages or other people's rows exist
        return error_response(404, "not_found", _("Not found."))
    return error_response(403, "forbidden", _("You do not have permission to do this."))


def _tag(view: F, rule: AccessRule) -> F:
    view.access_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    return _tag(view, AccessRule("public"))


def without_database(view: F) -> F:
    """The view answers without asking the database (liveness, readiness): nothing around it may ask either
    (the language of the answer is the browser's, else English)."""
    view.without_database = True  # type: ignore[attr-defined]
    return view


def signed_in(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return _unauthenticated()
        return view(*args, **kwargs)

    return _tag(wrapper, AccessRule("signed_in"))  # type: ignore[arg-type]


def requires(permission: str) -> Callable[[F], F]:
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthenticated()
            if not can(db.session, current_user, permission):
                return _forbidden()
            return view(*args, **kwargs)

        return _tag(wrapper, AccessRule("permission", permission))  # type: ignore[arg-type]

    return decorator


def user() -> User:
    """The signed-in user (views behind `signed_in`/`requires` only)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "account.login"
    login_manager.session_protection = "basic"
    token_cache.tokens.ttl = min(float(app.config["API_TOKEN_CACHE_SECONDS"]), 5.0)  # revocation: 5 s at most

    @login_manager.user_loader
    def load_from_cookie(secret: str) -> User | None:
        if bearer_token() is not None:
            return None  # a request with a token is judged by the token alone
        return auth_service.user_for_login_session(db.session, secret)

    @login_manager.request_loader
    def load_from_token(_request: Any) -> User | None:
        token = bearer_token()
        if not token:
            return None
        found = auth_service.user_for_api_token(db.session, token)
        if found is not None:
            g.token_auth = True
        return found

    @app.before_request
    def check_csrf() -> None:
        """Authenticate first, then check CSRF for cookie sessions only.

        Token-authenticated API calls carry no cookie, so they cannot be forged cross-site. A call to a view
        that needs a signed-in user, made without one, is left to the view: it answers 401 (API) or sends to
        the sign-in page, rather than a CSRF refusal that hides what is wrong."""
        if (not app.config.get("WTF_CSRF_ENABLED", True) or request.method not in UNSAFE_METHODS
                or bearer_token() is not None):
            return
        if not current_user.is_authenticated and not _is_public(app, request.endpoint):
            return
        csrf.protect()


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_public(app: Flask, endpoint: str | None) -> bool:
    """An unknown endpoint (404, 405) counts as public: CSRF is checked as before."""
    view = app.view_functions.get(endpoint or "")
    rule = getattr(view, "access_rule", None)
    return rule is None or rule.kind == "public"
