"""Who hears of each level change, and what a warning says."""

from __future__ import annotations

import pytest

from core.at_risk import rules
from core.i18n import words

ENGLISH = words(None, "en")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("ok", "watch", ("learner", "facilitator")),
    ("watch", "at_risk", rules.AUDIENCES),
    ("at_risk", "cannot_reach", rules.AUDIENCES),
    ("cannot_reach", "watch", ("learner",)),   # better: the learner alone, back on track
    ("watch", "ok", ("learner",)),
    ("ok", "ok", ()),
])
def test_default_rules(old: str, new: str, expected: tuple[str, ...]) -> None:
    assert rules.audiences(None, new, old) == expected


def test_an_institution_may_silence_a_level_and_then_owes_no_recovery_note() -> None:
    chosen = {"watch": [], "at_risk": ["cohort_admin"]}
    assert rules.audiences(chosen, "watch", "ok") == ()
    assert rules.audiences(chosen, "at_risk", "watch") == ("cohort_admin",)
    assert rules.audiences(chosen, "ok", "at_risk") == ()  # the learner was never told


@pytest.mark.parametrize("bad", [{"doomed": ["learner"]}, {"watch": ["the_press"]}, {"watch": "learner"}])
def test_bad_rules_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        rules.check_rules(bad)


def _warning(old: str, new: str, margin: int) -> rules.Warning:
    return rules.Warning("Amina", "Welding 1", old, new, 60.0, 80.0, margin, 5, 2, "Office, office@x.example")


def test_a_learners_warning_says_what_is_ahead_and_whom_to_contact() -> None:
    subject, body = rules.compose(ENGLISH, "Amina", "learner", [_warning("ok", "at_risk", 1)])
    assert subject == "Your attendance in Welding 1: at risk"
    assert "Sessions still ahead: 5." in body and "may still be missed: 1." in body and "office@x.example" in body


def test_out_of_reach_says_so_and_staff_get_one_digest() -> None:
    subject, body = rules.compose(ENGLISH, "Tarek", "facilitator",
                                  [_warning("ok", "cannot_reach", -1), _warning("ok", "watch", 2)])
    assert subject == "Attendance warnings: 2 trainee(s)"
    assert "can no longer be reached" in body and "Who to contact" not in body


def test_back_on_track() -> None:
    subject, _body = rules.compose(ENGLISH, "Amina", "learner", [_warning("at_risk", "ok", 3)])
    assert subject == "Back on track: Welding 1"
