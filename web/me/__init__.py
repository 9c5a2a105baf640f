"""A learner's own pages and API (issue 21): /me, their attendance, sessions and apologies. Everything here is
scoped to the signed-in learner by core.me; staff hold none of these permissions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from ..auth import requires

bp = Blueprint("me", __name__)


@bp.get("/me")
@requires("own_record.view")
def home() -> Any:
    return render_template("me/home.html")
