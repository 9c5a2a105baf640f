"""A register as spreadsheet rows (CSV export), with formula injection neutralized. Pure."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core.i18n import N_

from .roster import RegisterRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Column titles are msgids (the export is in the reader's language); cells keep the status codes (data).
HEADER = [N_("Trainee"), N_("Reference"), N_("Status"), N_("Minutes late"), N_("Notes"), N_("Evidence"),
          N_("Marked by"), N_("Marked at (UTC)"), N_("Version"), N_("How marked"), N_("Checked in at (UTC)")]
# How a mark was made (the records' `source`), in words.
HOW = {"staff": N_("staff"), "self_check_in": N_("self check-in"), "auto": N_("automatic")}


def neutralize(value: Any) -> str:
    """A cell a spreadsheet will show as text: prefix ' to anything that could start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def register_rows(rows: Iterable[RegisterRow], gettext: Callable[[str], str] = str) -> list[list[str]]:
    out = [[gettext(title) for title in HEADER]]
    for r in rows:
        out.append([neutralize(v) for v in (
            r.name, r.detail, r.status or "UNMARKED", r.minutes_late, r.notes,
            gettext(N_("yes")) if r.evidence_file_id else "", r.marked_by,
            r.marked_at.strftime("%Y-%m-%d %H:%M") if r.marked_at else "", r.version or "",
            gettext(HOW[r.source]) if r.source in HOW else "",
            r.checked_in_at.strftime("%Y-%m-%d %H:%M") if r.checked_in_at else "",
        )])
    return out


def to_csv(rows: Sequence[Sequence[str]], preamble: Sequence[Sequence[str]] = ()) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in preamble:
        writer.writerow([neutralize(v) for v in line])
    writer.writerows(rows)
    return buffer.getvalue()
