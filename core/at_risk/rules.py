"""Pure rules of the at-risk warnings: who hears of each level, and what a warning says (no session, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.i18n import Words

AUDIENCES = ("learner", "facilitator", "cohort_admin", "org_contact")
WARNED = ("watch", "at_risk", "cannot_reach")
DEFAULT_RULES: dict[str, tuple[str, ...]] = {
    "watch": ("learner", "facilitator"),
    "at_risk": AUDIENCES,
    "cannot_reach": AUDIENCES,
}
STAFF = ("facilitator", "cohort_admin")


RANK = {"ok": 0, "watch": 1, "at_risk": 2, "cannot_reach": 3}


def recovered(from_level: str, to_level: str) -> bool:
    return RANK.get(to_level, 0) < RANK.get(from_level, 0)


def audiences(rules: Mapping[str, Any] | None, to_level: str, from_level: str = "ok") -> tuple[str, ...]:
    """Who hears that a trainee moved from `from_level` to `to_level`. A better level: the learner alone
    ("back on track"), and only if they were told of the level they leave."""
    if recovered(from_level, to_level):
        return ("learner",) if "learner" in audiences(rules, from_level) else ()
    if to_level == "ok":
        return ()
    chosen = (rules or {}).get(to_level, DEFAULT_RULES.get(to_level, ()))
    return tuple(a for a in AUDIENCES if a in chosen)


def check_rules(value: Mapping[str, Any]) -> dict[str, list[str]]:
    """An institution's rules as sent: levels among WARNED, audiences among AUDIENCES (ValueError otherwise)."""
    out: dict[str, list[str]] = {}
    for level, who in value.items():
        if level not in WARNED:
            raise ValueError(f"unknown level {level!r}: use watch, at_risk or cannot_reach")
        if not isinstance(who, list) or any(a not in AUDIENCES for a in who):
            raise ValueError(f"{level}: a list among learner, facilitator, cohort_admin, org_contact")
        out[level] = sorted(set(who), key=AUDIENCES.index)
    return out


@dataclass(frozen=True)
class Warning:
    """One level change as a mail tells it."""

    name: str
    cohort_name: str
    from_level: str
    to_level: str
    rate: float | None
    required_rate: float
    margin: int
    remaining: int
    consecutive_absences: int
    contact: str | None


def level_label(words: Words, level: str) -> str:
    labels = {"ok": words.gettext("on track"), "watch": words.gettext("watch"),
              "at_risk": words.gettext("at risk"), "cannot_reach": words.gettext("cannot reach the required rate")}
    return labels.get(level, level)


def _what_to_do(words: Words, w: Warning, audience: str) -> list[str]:
    lines = [words.gettext("Sessions still ahead: %(remaining)s.", remaining=w.remaining)]
    if w.margin >= 0:
        lines.append(words.gettext("Sessions that may still be missed: %(margin)s.", margin=w.margin))
    else:
        lines.append(words.gettext("The required rate of %(required)s%% can no longer be reached.",
                                   required=_percent(w.required_rate)))
    if w.contact and audience == "learner":
        lines.append(words.gettext("Who to contact: %(contact)s.", contact=w.contact))
    return lines


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def compose(words: Words, recipient_name: str | None, audience: str, warnings: Sequence[Warning]) -> tuple[str, str]:
    """(subject, text) of one mail: a learner's own change, or a staff digest listing each change."""
    back = all(recovered(w.from_level, w.to_level) for w in warnings)
    if audience == "learner" and back:
        subject = words.gettext("Back on track: %(cohort)s", cohort=warnings[0].cohort_name)
    elif audience == "learner":
        subject = words.gettext("Your attendance in %(cohort)s: %(level)s", cohort=warnings[0].cohort_name,
                                level=level_label(words, warnings[0].to_level))
    else:
        subject = words.gettext("Attendance warnings: %(count)s trainee(s)", count=len(warnings))
    parts = [words.gettext("Hello %(name)s,", name=recipient_name or "")]
    for w in warnings:
        head = words.gettext("%(name)s (%(cohort)s): %(old)s → %(new)s. Rate so far %(rate)s%%, required "
                             "%(required)s%%, %(absences)s absence(s) in a row.", name=w.name,
                             cohort=w.cohort_name, old=level_label(words, w.from_level),
                             new=level_label(words, w.to_level), rate=_percent(w.rate),
                             required=_percent(w.required_rate), absences=w.consecutive_absences)
        parts.append("\n".join([head, *([] if w.to_level == "ok" else _what_to_do(words, w, audience))]))
    return subject, "\n\n".join(parts) + "\n"
