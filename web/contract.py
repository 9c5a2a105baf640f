"""The API contract: request and response schemas (pydantic v2) checked by spectree, and the OpenAPI
description built from the same declarations.

Why spectree: it decorates the plain Flask views and blueprints this product already has (no
replacement app or blueprint class), validates with pydantic v2, derives path parameters from the
URL converters, and emits OpenAPI 3.1 from the models; the docs page is served from a locally
installed Swagger UI (`swagger-ui-bundle-v2`), so offline sites keep their docs.

A view declares its contract with `@contract(...)`, under its access rule:

    @bp.post("/api/institution/attendance/mark")
    @requires("attendance.mark")
    @contract(json=MarkRegister, resp=responds(HTTP_200=MarkResult))
    def api_mark(json: MarkRegister) -> Any: ...

Bad input never reaches the view: it answers 422 `validation_error` with one detail per field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from flask import current_app, request
from flask_babel import gettext
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin
from werkzeug.exceptions import UnsupportedMediaType

from core.errors import DomainError
from core.fields import INT32_MAX, MAX_PAGE, MAX_PER_PAGE
from core.i18n import N_

T = TypeVar("T")
# The longest request line ("GET /api/…?… HTTP/1.1") the app reads: gunicorn's own default limit, so clients may
# send what they always could. The app refuses a longer one with a JSON 414 (web/errors.py); gunicorn is started
# with --limit-request-line 8190 (its most) so that the app, not the server's plain-text page, answers it.
MAX_REQUEST_LINE = 4094
# Text a database can hold has no NUL (web/errors.py refuses it anywhere, core.fields.clean_text in commands).
NO_NUL = "^[^\\u0000]*$"
FORM_MIMETYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}

# Every operation can meet these (auth, permission, unknown id, database away), so all are documented.
COMMON_ERRORS = {
    "400": "Malformed request (not JSON, nested too deeply, NUL bytes).",
    "401": "Not signed in and no valid API token.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such resource, or not visible to you.",
    "422": "The request is well-formed but its values are not acceptable.",
    "414": "The request line (method, path and query) is longer than MAX_REQUEST_LINE bytes.",
    "429": "Too many requests; see Retry-After.",
    "503": "The database or broker is unavailable; retry after Retry-After seconds.",
}


class ErrorBody(BaseModel):
    code: str = Field(description="A stable English identifier clients can match on.")
    message: str = Field(description="A sentence for people, in the request's language.")
    details: Any = Field(None, description="For validation errors: a list of {field, message}.")


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class Page(BaseModel, Generic[T]):
    """The list envelope every API list returns."""

    items: list[T]
    page: int
    per_page: int
    total: int
    pages: int


class Accepted(BaseModel):
    """Long work: 202 with where to poll."""

    id: int | str
    status: str
    status_url: str


def file_required(schema: dict[str, Any]) -> None:
    """An upload's model: the description says `file` is required, as the view enforces (with its own error,
    `file_missing`, rather than a schema refusal: the field stays optional in the model)."""
    schema["required"] = ["file", *[name for name in schema.get("required", []) if name != "file"]]


def file_field(description: str) -> Any:
    """A multipart file part, documented as binary (the view reads `request.files`; optional here so that a
    missing file gets the view's own clear error)."""

    def as_binary(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        schema.update(type="string", format="binary")

    return Field(None, description=description, json_schema_extra=as_binary)


class JobOut(BaseModel):
    """The background job behind a row (core.jobs), in words: what it is doing or why it stopped."""

    id: int
    kind: str
    queue: str
    status: str = Field(description="QUEUED, RUNNING, SUCCEEDED or FAILED")
    attempts: int
    max_attempts: int
    queued_at: str
    waiting_for_worker: bool
    can_retry: bool
    message: str


class RequestInvalid(DomainError):
    """A request that its declared schema refused (raised before the view runs)."""

    code = "validation_error"
    http_status = 422


def field_path(loc: tuple[Any, ...]) -> str:
    """('records', 3, 'status') → 'records[3].status'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def request_invalid(errors: list[dict[str, Any]]) -> RequestInvalid:
    """pydantic's errors as the API's 422: one {field, message} per problem; the message is a sentence in the
    request's language naming the field as the forms label it (web.validation), never pydantic's English."""
    from .validation import sentence

    details = [{"field": field_path(tuple(e.get("loc", ()))) or None, "message": sentence(e)} for e in errors]
    return RequestInvalid(N_("Some values in the request are not acceptable."), details=details)


def _refuse_invalid(_req: Any, _resp: Any, error: Exception | None, _instance: Any, adapter: Any) -> None:
    if error is not None:
        errors = (error.errors(include_context=True, include_url=False) if isinstance(error, PydanticValidationError)
                  else adapter.validation_errors(error))
        raise request_invalid(errors)


class _Plugin(FlaskPlugin):
    """Response bodies are checked against their schemas when API_VALIDATE_RESPONSES is on (tests, CI);
    production skips that cost."""

    def validate_response(self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
                          ) -> Any:
        if not current_app.config.get("API_VALIDATE_RESPONSES"):
            skip_validation = True
        return super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)


def _component_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


_MODELS_BY_NAME: dict[str, Any] = {}


def _model_name(model: Any) -> str:
    """The model's class name, qualified by its capability when another model already has that name
    (web.portals.schemas.SessionOut and web.scheduling.schemas.SessionOut must not share one schema)."""
    name = _component_name(getattr(model, "__name__", str(model)))
    if _MODELS_BY_NAME.setdefault(name, model) is model:
        return name
    capability = getattr(model, "__module__", "").split(".")[-2:-1] or ["x"]
    return _component_name(f"{capability[0]}.{name}")


class _Spec(SpecTree):
    def _generate_spec(self) -> dict[str, Any]:
        spec = super()._generate_spec()
        spec["paths"] = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/")}
        spec["components"]["schemas"].setdefault("ErrorEnvelope", _error_schema())
        for schema in spec["components"]["schemas"].values():
            _no_nul_in_text(schema)
        for operations in spec["paths"].values():
            for operation in operations.values():
                _finish_operation(operation)
        return spec


def _error_schema() -> dict[str, Any]:
    schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    schema["properties"]["error"] = ErrorBody.model_json_schema()
    return schema


def _no_nul_in_text(schema: Any) -> None:
    """Every free text in the description says what guard_request enforces: no NUL (formats and patterns already
    exclude it)."""
    if isinstance(schema, list):
        for item in schema:
            _no_nul_in_text(item)
    elif isinstance(schema, dict):
        if schema.get("type") == "string" and not ({"format", "pattern", "enum", "const"} & schema.keys()):
            schema["pattern"] = NO_NUL
        if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
            schema.setdefault("propertyNames", {"pattern": NO_NUL})  # keys are text too
        for key, value in schema.items():
            if key not in ("examples", "example", "default", "const", "enum"):
                _no_nul_in_text(value)


def _finish_operation(operation: dict[str, Any]) -> None:
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    errors = dict(COMMON_ERRORS)
    if "requestBody" in operation:
        errors["415"] = "The body is not in the declared media type (JSON, or multipart for uploads)."
    for code, description in errors.items():
        operation["responses"].setdefault(code, {"description": description, "content": error_content})
        operation["responses"][code].setdefault("content", error_content)
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema") or {}
        if parameter.get("in") == "path" and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=INT32_MAX)
        _no_nul_in_text(schema)
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("in") != "header"
                               or p.get("name", "").lower() != "authorization"]


api_spec = _Spec(
    backend=_Plugin,
    mode="strict",
    title="Attendance platform API",
    version="1",
    description=("Sign in, or send `Authorization: Bearer <token>` (Profile → API tokens). Lists answer "
                 f"`{{items, page, per_page, total, pages}}` (`page` ≤ {MAX_PAGE}, `per_page` ≤ {MAX_PER_PAGE}); "
                 "errors answer `{error: {code, message, details}}`; long work answers 202 with a `status_url`."),
    path="apidoc",  # unused: the description and docs are served under /api/ by web/api
    validation_error_status=422,
    validation_error_model=ErrorEnvelope,
    before=_refuse_invalid,
    naming_strategy=_model_name,
    nested_naming_strategy=lambda parent, child: _component_name(f"{parent}.{child}"),
    security_schemes=[SecurityScheme(name="bearerAuth", data=SecuritySchemeData(type="http", scheme="bearer"))],
    security={"bearerAuth": []},
)


def contract(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a view's query/json/form models and responses (spectree's `validate`).

    A view that takes a JSON body refuses a form-encoded one with 415 (spectree would hand it no body), unless it
    declares a form too (JSON, or multipart with a file: spectree reads whichever was sent)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        declared = api_spec.validate(tags=[capability_tag(view)], **kwargs)(view)
        if ("json" not in kwargs and "json" not in getattr(view, "__annotations__", {})) or "form" in kwargs:
            return declared  # a view declaring both JSON and a multipart form takes either

        @functools.wraps(declared)
        def json_only(*args: Any, **kw: Any) -> Any:
            if request.method not in ("GET", "HEAD", "DELETE") and request.mimetype in FORM_MIMETYPES:
                raise UnsupportedMediaType(gettext("Send the body as JSON (Content-Type: application/json)."))
            return declared(*args, **kw)

        return json_only

    return decorator


def capability_tag(view: Callable[..., Any]) -> str:
    """The capability a view belongs to, from its package (web.cohorts.public → cohorts); web.api → system."""
    capability = view.__module__.split(".")[1] if view.__module__.startswith("web.") else view.__module__
    return "system" if capability == "api" else capability


def responds(**code_models: Any) -> Response:
    return Response(**code_models)


def openapi_document() -> dict[str, Any]:
    return api_spec.spec
