"""Former values out of text and JSON columns, in set-based UPDATEs on the rows an erasure names (never a scan of
every table): each value is replaced by the pseudonym wherever it appears, inside longer text too."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text, cast, func, or_, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session


def json_forms(values: Iterable[str]) -> list[str]:
    """Each value as it is written inside JSON text: PostgreSQL's jsonb keeps non-ASCII characters, SQLite's JSON
    text escapes them (\\u00e9)."""
    forms: set[str] = set()
    for value in values:
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
        forms.add(json.dumps(value)[1:-1])
    return sorted(forms, key=len, reverse=True)  # the longest first: a name before a part of it


def _replaced(expr: Any, needles: list[str], substitute: str) -> Any:
    for needle in needles:
        expr = func.replace(expr, needle, substitute)
    return expr


def scrub_text(session: Session, column: Any, where: Any, needles: list[str], substitute: str) -> int:
    """Replace every needle in `column` on the rows `where` selects that hold one; the rows changed."""
    if not needles:
        return 0
    holds = or_(*(column.contains(n, autoescape=True) for n in needles))
    stmt = update(column.table).where(where, holds).values({column.name: _replaced(column, needles, substitute)})
    return int(session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0)  # type: ignore[attr-defined]


def scrub_json(session: Session, column: Any, where: Any, values: list[str], substitute: str) -> int:
    """The same inside a JSON column (jsonb on PostgreSQL, JSON text on SQLite), read and written as text."""
    needles = json_forms(values)
    if not needles:
        return 0
    as_text = cast(column, Text)
    holds = or_(*(as_text.contains(n, autoescape=True) for n in needles))
    new = _replaced(as_text, needles, substitute)
    if session.get_bind().dialect.name == "postgresql":
        new = cast(new, JSONB)
    stmt = update(column.table).where(where, holds).values({column.name: new})
    return int(session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0)  # type: ignore[attr-defined]
