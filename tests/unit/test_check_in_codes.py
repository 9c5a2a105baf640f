"""Rotating check-in codes (core.checkin.codes): derived from the session and the 20-second step, the current and
the previous step accepted, older ones expired, anything else invalid."""

from __future__ import annotations

import datetime as dt
import time

from core.checkin import codes
from core.checkin.codes import Verdict

SECRET = codes.session_secret("test-secret", 42)
# 09:30:00 UTC is a step boundary (a multiple of 20 s since the epoch).
BOUNDARY = dt.datetime(2026, 11, 17, 9, 30, 0, tzinfo=dt.UTC)
STEP = codes.step_of(BOUNDARY)


def at(seconds: float) -> dt.datetime:
    return BOUNDARY + dt.timedelta(seconds=seconds)


def test_boundary_is_a_step_boundary() -> None:
    assert codes.step_of(at(-0.001)) == STEP - 1 and codes.changes_in(BOUNDARY) == 20


def test_code_is_six_digits_and_changes_every_step() -> None:
    assert len(codes.code_at(SECRET, STEP)) == 6 and codes.code_at(SECRET, STEP) != codes.code_at(SECRET, STEP + 1)


def test_code_of_the_step_before_the_boundary_is_accepted_just_after_it() -> None:
    code = codes.code_at(SECRET, codes.step_of(at(-1)))
    assert codes.check_code(SECRET, code, at(1)).verdict is Verdict.ACCEPTED


def test_code_of_the_current_step_is_accepted_until_the_end_of_the_next() -> None:
    code = codes.code_at(SECRET, STEP)
    assert codes.check_code(SECRET, code, at(39.9)).verdict is Verdict.ACCEPTED


def test_code_replayed_two_steps_later_is_expired() -> None:
    code = codes.code_at(SECRET, STEP)
    assert codes.check_code(SECRET, code, at(40)) == codes.Check(Verdict.EXPIRED, STEP)


def test_code_of_another_session_is_invalid() -> None:
    other = codes.session_secret("test-secret", 43)
    assert codes.check_code(SECRET, codes.code_at(other, STEP), at(1)).verdict is Verdict.INVALID


def test_code_with_another_app_secret_is_invalid() -> None:
    other = codes.session_secret("another-secret", 42)
    assert codes.check_code(SECRET, codes.code_at(other, STEP), at(1)).verdict is Verdict.INVALID


def test_malformed_codes_are_invalid() -> None:
    for code in ("", "12345", "1234567", "12a456", "12345\x00", " 123456", "１２３４５６"):
        assert codes.check_code(SECRET, code, at(1)).verdict is Verdict.INVALID


def test_token_names_its_session_and_is_accepted_in_its_window() -> None:
    token = codes.token_at(SECRET, 42, STEP)
    assert codes.check_token(SECRET, token, at(25)) == codes.Check(Verdict.ACCEPTED, STEP, 42)


def test_token_replayed_two_steps_later_is_expired() -> None:
    token = codes.token_at(SECRET, 42, STEP)
    assert codes.check_token(SECRET, token, at(40)).verdict is Verdict.EXPIRED


def test_forged_token_is_invalid() -> None:
    token = codes.token_at(SECRET, 42, STEP)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert codes.check_token(SECRET, forged, at(1)).verdict is Verdict.INVALID


def test_token_with_its_step_moved_forward_is_invalid() -> None:
    tag = codes.token_at(SECRET, 42, STEP).rsplit("-", 1)[1]
    assert codes.check_token(SECRET, f"42-{STEP + 1}-{tag}", at(21)).verdict is Verdict.INVALID


def test_token_from_the_future_is_invalid() -> None:
    assert codes.check_token(SECRET, codes.token_at(SECRET, 42, STEP + 5), at(1)).verdict is Verdict.INVALID


def test_check_runs_at_least_50000_a_second() -> None:
    code = codes.code_at(SECRET, STEP - 1)  # the previous step's: the longer path of an accepted code
    n = 20000
    started = time.perf_counter()
    for _ in range(n):
        codes.check_code(SECRET, code, at(5))
    assert n / (time.perf_counter() - started) >= 50000
