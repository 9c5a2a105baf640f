"""Screens and JSON API for cohorts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cohorts", __name__)
