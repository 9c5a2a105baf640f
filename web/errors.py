"""Map domain errors and HTTP errors to responses: JSON under /api/, a page with a message elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, TooManyAttempts

from .auth import is_api_request

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "validation_error", 423: "locked", 429: "too_many_requests", 500: "server_error"}


def api_error(status: int, code: str, message: str, details: Any = None) -> Any:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify(error=body), status


def error_response(status: int, code: str, message: str, details: Any = None) -> Any:
    if is_api_request():
        return api_error(status, code, message, details)
    return render_template("error.html", status=status, message=message, details=details), status


def init_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        response = None
        if not is_api_request() and request.method == "POST" and exc.http_status in (409, 422, 423):
            # Screens: say what is wrong on the page the user came from; nothing was written.
            flash(exc.message, "danger")
            response = redirect(request.referrer or request.path)
        else:
            response = error_response(exc.http_status, exc.code, exc.message, exc.details)
        if isinstance(exc, TooManyAttempts):
            response = _with_header(response, "Retry-After", str(exc.retry_after))
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return error_response(400, "csrf_failed",
                              "The form expired or was not sent from this site. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        message = exc.description or "Request failed."
        if status == 413:
            limit = app.config["MAX_UPLOAD_MB"]
            message = f"The upload is too large. The limit is {limit} MB."
        return error_response(status, CODES.get(status, "error"), message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "server_error", "Something went wrong on our side. It has been logged.")


def _with_header(response: Any, name: str, value: str) -> Any:
    from flask import make_response

    resp = make_response(response)
    resp.headers[name] = value
    return resp
