"""Screens post HTML forms: read them as the same typed commands the API takes."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_SKIP = {"csrf_token"}


def form_data() -> dict[str, Any]:
    """The posted form as a dict; for a repeated name the last value wins (a hidden "false" before a checkbox),
    except names ending in `_ids`, which become lists (checkboxes, or ids typed with commas)."""
    out: dict[str, Any] = {}
    for key in request.form:
        if key in _SKIP:
            continue
        values = request.form.getlist(key)
        out[key] = [part for v in values for part in v.replace(",", " ").split()] if key.endswith("_ids") \
            else values[-1]
    return out


def form_command(model: type[M], **extra: Any) -> M:
    """Validate the form as `model` (a pydantic error becomes a flashed 422 on the page the user came from)."""
    return model.model_validate({**form_data(), **extra})
