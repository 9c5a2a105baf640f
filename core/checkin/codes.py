"""Rotating check-in codes, pure: derived, never stored.

A session's secret is HMAC(app secret, "check-in" + session id); the code of a 20-second time step is
HMAC(session secret, step) truncated to six digits (as TOTP does), and the QR's URL token carries the session,
the step and a longer tag of the same HMAC. The current and the previous step are accepted; a code or token of
an older step (up to `EXPIRED_STEPS` back) is expired, anything else invalid. No I/O, no clock reads: callers
pass the instant (core.clock.now()).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import Enum

STEP_SECONDS = 20
ACCEPTED_STEPS = 2          # the current step and the previous one
EXPIRED_STEPS = 30          # older steps (10 minutes) are recognised and answered as expired, not invalid
CODE_DIGITS = 6
_TOKEN_TAG_BYTES = 12
_TOKEN = re.compile(r"([0-9]{1,10})-([0-9]{1,12})-([A-Za-z0-9_-]{16})")
_CODE = re.compile(r"[0-9]{6}")


class Verdict(Enum):
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    step: int | None = None       # the step the code belongs to (accepted or expired)
    session_id: int | None = None  # from a URL token


def step_of(instant: dt.datetime) -> int:
    return int(instant.timestamp()) // STEP_SECONDS


def changes_in(instant: dt.datetime) -> float:
    """Seconds until the current code changes."""
    ts = instant.timestamp()
    return round(STEP_SECONDS - (ts % STEP_SECONDS), 3)


def session_secret(app_secret: str | bytes, session_id: int) -> bytes:
    key = app_secret.encode() if isinstance(app_secret, str) else app_secret
    return hmac.digest(key, b"check-in:%d" % session_id, hashlib.sha256)


def _mac(secret: bytes, step: int) -> bytes:
    return hmac.digest(secret, step.to_bytes(8, "big"), hashlib.sha256)


def _digits(mac: bytes) -> str:
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10 ** CODE_DIGITS:06d}"


@functools.lru_cache(maxsize=8192)
def code_at(secret: bytes, step: int) -> str:
    """The six-digit code of `step` (cached: a class checking in asks for the same few steps thousands of
    times; the cache holds derived codes only, which are public on the projector anyway)."""
    return _digits(_mac(secret, step))


def token_at(secret: bytes, session_id: int, step: int) -> str:
    """The QR's URL token of `step`: `<session id>-<step>-<tag>`."""
    tag = base64.urlsafe_b64encode(_mac(secret, step)[:_TOKEN_TAG_BYTES]).decode().rstrip("=")
    return f"{session_id}-{step}-{tag}"


def check_code(secret: bytes, code: str, instant: dt.datetime) -> Check:
    """Is `code` this session's code now (current or previous step), an expired one, or neither?"""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return Check(Verdict.INVALID)
    now = step_of(instant)
    for step in range(now, now - ACCEPTED_STEPS, -1):
        if hmac.compare_digest(code_at(secret, step), code):
            return Check(Verdict.ACCEPTED, step)
    for step in range(now - ACCEPTED_STEPS, now - EXPIRED_STEPS, -1):
        if hmac.compare_digest(code_at(secret, step), code):
            return Check(Verdict.EXPIRED, step)
    return Check(Verdict.INVALID)


def parse_token(token: str) -> tuple[int, int, str] | None:
    """(session id, step, tag) of a well-formed URL token; None otherwise."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return None
    return int(match[1]), int(match[2]), match[3]


def check_token(secret: bytes, token: str, instant: dt.datetime) -> Check:
    """A URL token: genuine for its session (the caller derived `secret` from the token's session id) and of the
    current or previous step; a genuine one older than that is expired; anything else invalid."""
    parsed = parse_token(token)
    if parsed is None:
        return Check(Verdict.INVALID)
    session_id, step, _ = parsed
    if not hmac.compare_digest(token_at(secret, session_id, step), token):
        return Check(Verdict.INVALID, session_id=session_id)
    age = step_of(instant) - step
    if 0 <= age < ACCEPTED_STEPS:
        return Check(Verdict.ACCEPTED, step, session_id)
    if age >= ACCEPTED_STEPS:
        return Check(Verdict.EXPIRED, step, session_id)
    return Check(Verdict.INVALID, session_id=session_id)  # from the future: never issued
