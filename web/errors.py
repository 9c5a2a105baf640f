"""Map domain errors, HTTP errors and database trouble to responses: JSON under /api/, a page elsewhere.

Also the request guards every route gets, whatever its schema: ids beyond the database's integer range
are 404, JSON nested too deeply or carrying NUL bytes or lone
surrogates is 400, and a lost database connection is 503 with Retry-After, never a 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from flask import Flask, flash, g, jsonify, make_response, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, RequestURITooLarge

from core.errors import DomainError, TooManyAttempts
from core.fields import INT32_MAX, clean_text
from core.i18n import N_

from .contract import MAX_REQUEST_LINE, request_invalid
from .extensions import login_manager
from .i18n import translated_message

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 414: "request_line_too_long",
         415: "unsupported_media_type", 422: "validation_error", 423: "locked", 429: "too_many_requests",
         500: "server_error", 503: "unavailable"}
MAX_JSON_DEPTH = 32
# Words for HTTP errors raised without a view's own description (msgids: translated when answered).
HTTP_MESSAGES = {400: N_("The request could not be understood."), 401: N_("Sign in first."),
                 403: N_("You do not have permission to do this."), 404: N_("Not found."),
                 405: N_("This method is not allowed here."), 409: N_("Conflict."),
                 413: N_("The upload is too large."), 414: N_("The address is too long."),
                 415: N_("This type of content is not accepted."),
                 422: N_("Some values in the request are not acceptable."), 429: N_("Too many requests."),
                 500: N_("Something went wrong on our side. It has been logged."),
                 503: N_("Unavailable for a moment.")}
DB_RETRY_AFTER_SECONDS = 5


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, details: Any = None) -> Any:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify(error=body), status


def error_response(status: int, code: str, message: str, details: Any = None) -> Any:
    if is_api_request():
        return api_error(status, code, message, details)
    return render_template("error.html", status=status, message=message, details=details), status


class MalformedInput(BadRequest):
    """Input no schema could read: JSON nested too deeply (400), not JSON at all or text a database
    cannot hold (422, like every other value problem)."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.error_code, self.status = code, status


def _check_json(value: Any, depth: int = 0, texts: bool = True) -> None:
    """Refuse JSON nested too deeply and (with `texts`) text a database cannot hold, anywhere in `value`."""
    if depth > MAX_JSON_DEPTH:
        raise MalformedInput("json_too_deep", _too_deep(), 400)
    if isinstance(value, str):
        if texts:
            _check_text(value)
    elif isinstance(value, dict | list):
        deepest = depth + 1 > MAX_JSON_DEPTH  # even a number there is too deep
        for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
            if texts and isinstance(key, str):
                _check_text(key)
            if texts or deepest or isinstance(item, dict | list):
                _check_json(item, depth + 1, texts)


# In a UTF-8 body, the only way JSON text can hold a NUL or a lone surrogate is an escape like these (a raw NUL
# or surrogate byte sequence is not valid JSON or UTF-8). A body without them (and without any NUL byte, as a
# UTF-16 body would have) needs no walk over its strings: a 500-record register skips ~2,000 checks.
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|d[89a-f])", re.IGNORECASE)


def _texts_need_checking(raw: bytes) -> bool:
    return b"\x00" in raw or _RISKY_ESCAPE.search(raw) is not None


def _too_deep() -> str:
    return _("JSON may be nested at most %(depth)s levels deep.", depth=MAX_JSON_DEPTH)


def _check_text(value: str) -> None:
    try:
        clean_text(value)
    except ValueError as exc:
        raise MalformedInput("invalid_text", _("Text %(problem)s.", problem=_(str(exc)))) from None


def _request_line_length() -> int:
    """The request line as the server read it: `METHOD /path?query HTTP/1.1` (the path as sent, still quoted)."""
    environ = request.environ
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target is None:
        target = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/;=,:@!$&'()*+~")
        target += f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
    return len(request.method) + len(target) + len(environ.get("SERVER_PROTOCOL", "HTTP/1.1")) + 2


def guard_request() -> None:
    """Refuse input no view could store, before any view runs."""
    if _request_line_length() > MAX_REQUEST_LINE:
        raise RequestURITooLarge(_("The request line may be at most %(limit)s bytes long; send long values in "
                                   "the body.", limit=MAX_REQUEST_LINE))
    if any(isinstance(v, int) and v > INT32_MAX for v in (request.view_args or {}).values()):
        raise NotFound(_("No such resource."))  # an id no integer column can hold cannot exist
    _check_text(request.path)
    for key, value in request.args.items(multi=True):
        _check_text(key)
        _check_text(value)
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if request.is_json and request.content_length != 0:
            try:
                body = request.get_json(silent=False)
            except RecursionError:
                raise MalformedInput("json_too_deep", _too_deep(), 400) from None
            except BadRequest:
                raise MalformedInput("invalid_json", _("The body is not valid JSON.")) from None
            except UnicodeDecodeError:
                raise MalformedInput("invalid_json", _("The body is not valid UTF-8 JSON.")) from None
            _check_json(body, texts=_texts_need_checking(request.get_data(cache=True)))
        elif request.mimetype in {"multipart/form-data", "application/x-www-form-urlencoded"}:
            for key, value in request.form.items(multi=True):
                _check_text(key or "")  # a part without a name has none
                _check_text(value or "")
            for upload in request.files.values():
                _check_text(upload.filename or "")


def init_errors(app: Flask) -> None:
    app.before_request(guard_request)
    app.jinja_env.globals["kept_form"] = kept_form

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        response = None
        if not is_api_request() and request.method == "POST" and exc.http_status in (409, 422, 423):
            # Screens: say what is wrong on the page the user came from; nothing was written.
            flash(_with_field_messages(translated_message(exc), exc.details, exc.message), "danger")
            keep_typed_form()
            response = redirect(request.referrer or request.path)
        else:
            response = error_response(exc.http_status, exc.code, translated_message(exc), exc.details)
        if isinstance(exc, TooManyAttempts):
            response = _with_header(response, "Retry-After", str(exc.retry_after))
        return response

    @app.errorhandler(PydanticValidationError)
    def invalid_command(exc: PydanticValidationError) -> Any:
        """A command built from a form (screens, CLI) that its schema refused."""
        return domain_error(request_invalid(exc.errors(include_context=True, include_url=False)))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return error_response(400, "csrf_failed",
                              _("The form expired or was not sent from this site. Reload the page and try again."))

    @app.errorhandler(MalformedInput)
    def malformed(exc: MalformedInput) -> Any:
        return error_response(exc.status, exc.error_code, exc.description or _("Malformed request."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        # Werkzeug's own descriptions are English: each status says its own words, in the reader's language.
        message = _(HTTP_MESSAGES[status]) if status in HTTP_MESSAGES else exc.description or _("Request failed.")
        if status == 413:
            message = _("The upload is too large. The limit is %(mb)s MB.", mb=app.config["MAX_UPLOAD_MB"])
        elif type(exc).description != exc.description:
            message = exc.description or message  # a view's own words (already translated where it raised)
        return error_response(status, CODES.get(status, "error"), message)

    @app.errorhandler(DataError)
    def out_of_range(exc: DataError) -> Any:
        _forget_transaction()
        log.warning("value refused by the database on %s %s: %s", request.method, request.path, exc.orig)
        return error_response(422, "invalid_value", _("A value in the request is out of range or malformed."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(exc: Exception) -> Any:
        # Connection lost or refused, server shutting down, deadlock or statement timeout: all pass.
        _forget_transaction()
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        # What follows must not ask the database: not who is signed in (Flask-Login caches the user in
        # g._login_user; an anonymous one there stops it loading), not their language (web.i18n reads the flag).
        g.database_unavailable = True
        g._login_user = login_manager.anonymous_user()
        message = _("The database is unavailable for a moment. Nothing was saved; try again shortly.")
        if is_api_request():
            response = api_error(503, "database_unavailable", message)
        else:
            response = render_template("unavailable.html", message=message), 503
        return _with_header(response, "Retry-After", str(DB_RETRY_AFTER_SECONDS))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "server_error", _("Something went wrong on our side. It has been logged."))


def _with_field_messages(message: str, details: Any, untranslated: str | None = None) -> str:
    """A screen's flash says what is wrong with each refused field; a validation error's sentences already
    name the field as the form labels it ("Reason needs at least 10 characters."). A field's message that is
    the error's own sentence is shown translated, like the error."""
    if not isinstance(details, list):
        return message
    fields = [message if d.get("message") == untranslated else str(d.get("message", ""))
              for d in details if isinstance(d, dict) and d.get("message")]
    return " ".join(fields) if fields else message


KEPT_FORM_BYTES = 1500  # the session is a cookie: what was typed is kept within a small budget


def keep_typed_form() -> None:
    """Remember what a refused form held (never passwords, tokens or files) for the page it came from:
    web/static/app.js puts it back into the form that posted to this URL."""
    values: dict[str, list[str]] = {}
    used = 0
    for key, value in request.form.items(multi=True):
        if key == "csrf_token" or "password" in key or "token" in key:
            continue
        value = value[:300]
        used += len(key) + len(value.encode()) + 8
        if used > KEPT_FORM_BYTES:
            break
        values.setdefault(key, []).append(value)
    if values:
        session["kept_form"] = {"action": request.path, "values": values}


def kept_form() -> dict[str, Any] | None:
    """The refused form's values, once (for base.html's data-kept-form)."""
    return session.pop("kept_form", None) if "kept_form" in session else None


def _forget_transaction() -> None:
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool replaces it on the next checkout
        db.session.invalidate()


def _with_header(response: Any, name: str, value: str) -> Any:
    resp = make_response(response)
    resp.headers[name] = value
    return resp

