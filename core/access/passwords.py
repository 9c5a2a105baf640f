"""Password hashing: argon2id at (above) OWASP's minimum (m=19 MiB, t=2, p=1)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.i18n import N_

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so a miss costs as much as a hit (no user enumeration).
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10
TOO_SHORT = N_("Passwords must be at least %(min)s characters long.")
LENGTH_PARAMS = {"min": MIN_LENGTH}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return TOO_SHORT  # a msgid: fill it in with LENGTH_PARAMS
    return None
