"""Screens and JSON API for registers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registers", __name__)
