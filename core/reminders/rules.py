"""Pure reminder rules: who is at risk, and what the mails say (in the reader's language). No database, no SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from core.collation import sort_key
from core.i18n import Words, words

ENGLISH = words(None, "en")

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


def _html(words: Words, body: str) -> str:
    """A mail's HTML part, right-to-left for a reader of Arabic."""
    return f'<div dir="{words.direction}" lang="{words.language}">{body}</div>' if words.direction == "rtl" else body


def unmarked_mail(recipient_name: str, items: Sequence[UnmarkedItem], base_url: str, words: Words = ENGLISH
                  ) -> tuple[str, str, str]:
    """(subject, text, html) of one facilitator's reminder listing every register they still have to mark, in
    `words`' language; times in each session's own zone (the institution's)."""
    n = len(items)
    subject = words.ngettext("%(num)s register still to mark", "%(num)s registers still to mark", n)
    hello = words.gettext("Hello %(name)s,", name=recipient_name)
    intro = words.gettext("These sessions have ended but their registers are not fully marked (%(num)s):", num=n)
    outro = words.gettext("Once a session locks, its register can only be changed by an administrator.")
    lines = [hello, "", intro, ""]
    rows = []
    for it in items:
        when = f"{words.date(it.starts_local, 'EEE dd MMM y HH:mm')}–{it.ends_local:%H:%M}"
        lock = f"{words.date(it.locks_at_local, 'EEE dd MMM HH:mm')} ({it.time_zone})"
        url = register_url(base_url, it.session_id)
        state = words.gettext("%(unmarked)s of %(roster)s unmarked. Locks %(lock)s.", unmarked=it.unmarked,
                              roster=it.roster, lock=lock)
        lines += [f"- {it.cohort_name}, {when}: {state}", f"  {url}"]
        rows.append(f"<li><a href=\"{escape(url)}\">{escape(it.cohort_name)}, {escape(when)}</a>: {escape(state)}</li>")
    lines += ["", outro]
    html = _html(words, f"<p>{escape(hello)}</p><p>{escape(intro)}</p><ul>{''.join(rows)}</ul><p>{escape(outro)}</p>")
    return subject, "\n".join(lines), html


@dataclass(frozen=True)
class AtRiskItem:
    cohort_name: str
    trainee_name: str
    reason: str
    rate: float | None
    consecutive_misses: int


def _describe(item: AtRiskItem, words: Words) -> str:
    parts = []
    if "low_rate" in item.reason and item.rate is not None:
        parts.append(words.gettext("attendance %(rate)s", rate=words.percent(item.rate)))
    if "consecutive_misses" in item.reason:
        parts.append(words.ngettext("missed the last %(num)s session", "missed the last %(num)s sessions",
                                    item.consecutive_misses))
    return ", ".join(parts) or item.reason


def at_risk_mail(recipient_name: str, items: Sequence[AtRiskItem], threshold: float, consecutive: int,
                 words: Words = ENGLISH) -> tuple[str, str, str]:
    n = len(items)
    subject = words.ngettext("%(num)s trainee at risk", "%(num)s trainees at risk", n)
    hello = words.gettext("Hello %(name)s,", name=recipient_name)
    intro = words.gettext("These trainees fell below %(threshold)s attendance or missed %(consecutive)s sessions in "
                          "a row:", threshold=words.percent(threshold), consecutive=consecutive)
    lines = [hello, "", intro, ""]
    html_rows = []
    key = sort_key(words.language)
    for it in sorted(items, key=lambda i: (key(i.cohort_name), key(i.trainee_name))):
        lines.append(f"- {it.cohort_name}: {it.trainee_name} — {_describe(it, words)}")
        html_rows.append(f"<li>{escape(it.cohort_name)}: <strong>{escape(it.trainee_name)}</strong> — "
                         f"{escape(_describe(it, words))}</li>")
    html = _html(words, f"<p>{escape(hello)}</p><p>{escape(intro)}</p><ul>{''.join(html_rows)}</ul>")
    return subject, "\n".join(lines), html
