"""A register as spreadsheet rows (CSV export), with formula injection neutralized. Pure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from .roster import RegisterRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ["Trainee", "Reference", "Status", "Minutes late", "Notes", "Evidence", "Marked by", "Marked at (UTC)",
          "Version"]


def neutralize(value: Any) -> str:
    """A cell a spreadsheet will show as text: prefix ' to anything that could start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def register_rows(rows: Iterable[RegisterRow]) -> list[list[str]]:
    out = [HEADER]
    for r in rows:
        out.append([neutralize(v) for v in (
            r.name, r.detail, r.status or "UNMARKED", r.minutes_late, r.notes,
            "yes" if r.evidence_file_id else "", r.marked_by,
            r.marked_at.strftime("%Y-%m-%d %H:%M") if r.marked_at else "", r.version or "",
        )])
    return out


def to_csv(rows: Sequence[Sequence[str]], preamble: Sequence[Sequence[str]] = ()) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in preamble:
        writer.writerow([neutralize(v) for v in line])
    writer.writerows(rows)
    return buffer.getvalue()
