"""Logs: one line per request and per task, with duration and ids; JSON lines with LOG_FORMAT=json.

Structured values travel as `extra={"fields": {...}}`: the JSON formatter makes them keys, the text
formatter appends them as key=value.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from flask import Flask, g, request

request_log = logging.getLogger("web.request")
_HANDLER_NAME = "attendance"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        return f"{line} {' '.join(f'{k}={v}' for k, v in fields.items())}" if fields else line


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Root logger to stderr in the chosen format (idempotent: replaces only the handler it added)."""
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else TextFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # WeasyPrint's font subsetting (fontTools) logs several INFO lines per font of every PDF: noise, not news.
    logging.getLogger("fontTools").setLevel(max(logging.WARNING, root.level))


def init_request_logging(app: Flask) -> None:
    if not app.testing:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()
        g.request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]

    @app.after_request
    def log_request(response: Any) -> Any:
        started = g.pop("request_started", None)
        if started is None:
            return response
        loaded = g.get("_login_user")  # only if the view loaded the user: logging must not cost a query
        user_id = getattr(loaded, "id", None)
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": {
            "request_id": g.get("request_id"), "method": request.method, "path": request.path,
            "status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": user_id, "remote_addr": request.remote_addr, "endpoint": request.endpoint}})
        return response
