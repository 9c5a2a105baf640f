"""Fixed pagination of register documents. Pure.

Every page holds a fixed number of trainee rows (cells clip instead of growing), so the page count, and so
"Page x of y", is known before anything is rendered, and page-sized chunks can be rendered separately
(in parallel processes) and joined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SESSION_ROWS_PER_PAGE = 20
SESSION_TAIL_ROWS = 8        # the space the totals and the sign-off lines take, in rows
KEPT_WITH_TAIL = 3           # rows carried onto the totals' page when they do not fit under the last rows
COHORT_ROWS_PER_PAGE = 30
COHORT_TAIL_ROWS = 10        # per-session totals and the legend
COHORT_COLUMNS_PER_PAGE = 20


@dataclass(frozen=True)
class Page:
    number: int                 # 1-based, over the whole document
    rows: range                 # trainee rows on this page
    columns: range              # cohort register: the session columns of this page set
    column_set: int             # 0-based page set (sessions spill onto further sets)
    column_sets: int
    tail: bool                  # the totals (and sign-off or legend) close this page set here


def paginate(rows: int, rows_per_page: int, tail_rows: int, columns: int = 0,
             columns_per_page: int | None = None) -> list[Page]:
    """Pages for `rows` trainees (and `columns` sessions, in sets of `columns_per_page`).

    The last page of each set keeps `tail_rows` rows free for the totals. If it has no room, its last rows
    (up to KEPT_WITH_TAIL) move to the next page with the totals: totals and sign-off never stand alone under
    an empty table header."""
    if tail_rows >= rows_per_page:
        raise ValueError("the tail must fit on one page")
    sets = max(1, math.ceil(columns / columns_per_page)) if columns_per_page else 1
    pages: list[Page] = []
    for column_set in range(sets):
        cols = (range(column_set * columns_per_page, min(columns, (column_set + 1) * columns_per_page))
                if columns_per_page else range(columns))
        starts = list(range(0, rows, rows_per_page)) or [0]
        for i, start in enumerate(starts):
            last = i == len(starts) - 1
            chunk = range(start, min(rows, start + rows_per_page))
            fits = len(chunk) + tail_rows <= rows_per_page
            if last and not fits:
                kept = min(KEPT_WITH_TAIL, rows_per_page - tail_rows, len(chunk) - 1) or 1
                split = chunk.stop - kept
                pages.append(Page(len(pages) + 1, range(chunk.start, split), cols, column_set, sets, False))
                pages.append(Page(len(pages) + 1, range(split, chunk.stop), cols, column_set, sets, True))
            else:
                pages.append(Page(len(pages) + 1, chunk, cols, column_set, sets, last))
    return pages


def chunks(pages: list[Page], parts: int, max_pages: int) -> list[list[Page]]:
    """Split pages into runs of at most `max_pages` pages, as even as can be; a document that fits in one run
    stays whole (starting child processes costs more than it saves on a short document). `parts` (the
    number of processes) only sets a floor once the document needs several runs anyway."""
    if not pages:
        return []
    count = math.ceil(len(pages) / max_pages)
    if count > 1:
        count = max(count, min(parts, len(pages)))
    size, extra = divmod(len(pages), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(pages[start:end])
        start = end
    return out
