"""A fresh password confirmation before an act that binds the user (a sign-off, an erasure).

Screens re-enter the password and remember the time of that in the signed-in session (valid FRESH_FOR);
API tokens carry a fresh `password` field with the request. Either way, without one the act is refused with
403 `password_confirmation_required`, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core import clock
from core.errors import Forbidden
from core.i18n import N_
from core.models import User

from .passwords import verify_password

FRESH_FOR = dt.timedelta(minutes=5)
CODE = "password_confirmation_required"


class PasswordConfirmationRequired(Forbidden):
    code = CODE


def is_fresh(confirmed_at: dt.datetime | None) -> bool:
    """True when a password confirmation made at `confirmed_at` is still within FRESH_FOR (not from the future)."""
    if confirmed_at is None:
        return False
    age = clock.now() - confirmed_at
    return dt.timedelta(0) <= age <= FRESH_FOR


def confirm_password(session: Session, user: User, password: str | None, confirmed_at: dt.datetime | None) -> None:
    """Pass when `password` is the user's (checked now), or else when `confirmed_at` is fresh; otherwise raise
    PasswordConfirmationRequired (a wrong password too, with its own message). `session` is the caller's: the
    check reads nothing else than the user's stored hash."""
    if password is not None:
        if len(password) > 1024 or "\x00" in password or not verify_password(user.password_hash, password):
            raise PasswordConfirmationRequired(N_("That password is not right. Enter your current password."),
                                               details={"field": "password"})
        return
    if not is_fresh(confirmed_at):
        raise PasswordConfirmationRequired(
            N_("Confirm your password first (a confirmation lasts 5 minutes)."), details={"field": "password"})
