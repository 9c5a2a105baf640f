"""Pure reminder rules: who is at risk, and what the mails say. No database, no SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from core.collation import sort_key

REGISTER_PATH = "/institution/attendance/sessions/{session_id}"
ATTENDED = {"PRESENT", "LATE"}
MIN_MARKS_FOR_RATE = 3  # one absence out of one session is not yet a trend


@dataclass(frozen=True)
class Risk:
    at_risk: bool
    reasons: tuple[str, ...]
    rate: float | None
    consecutive_misses: int

    @property
    def reason(self) -> str:
        return "+".join(self.reasons)


def assess(statuses: Sequence[str], threshold: float, consecutive: int) -> Risk:
    """`statuses` oldest first. EXCUSED counts neither for nor against (and does not break a run of misses)."""
    counted = [s for s in statuses if s != "EXCUSED"]
    rate = (sum(s in ATTENDED for s in counted) / len(counted)) if counted else None
    misses = 0
    for status in reversed(counted):
        if status != "ABSENT":
            break
        misses += 1
    reasons = []
    if rate is not None and len(counted) >= MIN_MARKS_FOR_RATE and rate < threshold:
        reasons.append("low_rate")
    if consecutive > 0 and misses >= consecutive:
        reasons.append("consecutive_misses")
    return Risk(bool(reasons), tuple(reasons), rate, misses)


@dataclass(frozen=True)
class UnmarkedItem:
    session_id: int
    cohort_name: str
    starts_local: dt.datetime
    ends_local: dt.datetime
    unmarked: int
    roster: int
    locks_at_local: dt.datetime
    time_zone: str


def register_url(base_url: str, session_id: int) -> str:
    return base_url.rstrip("/") + REGISTER_PATH.format(session_id=session_id)


def unmarked_mail(recipient_name: str, items: Sequence[UnmarkedItem], base_url: str) -> tuple[str, str, str]:
    """(subject, text, html) of one facilitator's reminder listing every register they still have to mark."""
    n = len(items)
    subject = f"{n} register{'s' if n != 1 else ''} still to mark"
    lines = [f"Hello {recipient_name},", "",
             f"These sessions have ended but their registers are not fully marked ({n}):", ""]
    rows = []
    for it in items:
        when = f"{it.starts_local:%a %d %b %Y %H:%M}–{it.ends_local:%H:%M}"
        lock = f"{it.locks_at_local:%a %d %b %H:%M} ({it.time_zone})"
        url = register_url(base_url, it.session_id)
        lines += [f"- {it.cohort_name}, {when}: {it.unmarked} of {it.roster} unmarked. Locks {lock}.", f"  {url}"]
        rows.append(f"<li><a href=\"{escape(url)}\">{escape(it.cohort_name)}, {escape(when)}</a>: "
                    f"{it.unmarked} of {it.roster} unmarked. Locks {escape(lock)}.</li>")
    lines += ["", "Once a session locks, its register can only be changed by an administrator."]
    html = (f"<p>Hello {escape(recipient_name)},</p><p>These sessions have ended but their registers are not "
            f"fully marked ({n}):</p><ul>{''.join(rows)}</ul>"
            "<p>Once a session locks, its register can only be changed by an administrator.</p>")
    return subject, "\n".join(lines), html


@dataclass(frozen=True)
class AtRiskItem:
    cohort_name: str
    trainee_name: str
    reason: str
    rate: float | None
    consecutive_misses: int


def _describe(item: AtRiskItem) -> str:
    parts = []
    if "low_rate" in item.reason and item.rate is not None:
        parts.append(f"attendance {item.rate:.0%}")
    if "consecutive_misses" in item.reason:
        parts.append(f"missed the last {item.consecutive_misses} sessions")
    return ", ".join(parts) or item.reason


def at_risk_mail(recipient_name: str, items: Sequence[AtRiskItem], threshold: float, consecutive: int,
                 language: str = "en") -> tuple[str, str, str]:
    n = len(items)
    subject = f"{n} trainee{'s' if n != 1 else ''} at risk"
    lines = [f"Hello {recipient_name},", "",
             f"These trainees fell below {threshold:.0%} attendance or missed {consecutive} sessions in a row:", ""]
    html_rows = []
    key = sort_key(language)  # cohorts, then trainees, in the recipient's language's name order
    for it in sorted(items, key=lambda i: (key(i.cohort_name), key(i.trainee_name))):
        lines.append(f"- {it.cohort_name}: {it.trainee_name} — {_describe(it)}")
        html_rows.append(f"<li>{escape(it.cohort_name)}: <strong>{escape(it.trainee_name)}</strong> — "
                         f"{escape(_describe(it))}</li>")
    html = (f"<p>Hello {escape(recipient_name)},</p><p>These trainees fell below {threshold:.0%} attendance or "
            f"missed {consecutive} sessions in a row:</p><ul>{''.join(html_rows)}</ul>")
    return subject, "\n".join(lines), html
