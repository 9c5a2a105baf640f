"""A fresh password confirmation before a grave act (erasing a person, sealing): the password sent with the
request, or a screen session that confirmed it in the last five minutes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core import clock
from core.errors import Forbidden
from core.i18n import N_
from core.models import User

from .passwords import verify_password

FRESH_FOR = dt.timedelta(minutes=5)


class PasswordConfirmationRequired(Forbidden):
    code = "password_confirmation_required"


def confirm_password(session: Session, user: User, password: str | None, confirmed_at: dt.datetime | None) -> None:
    """Pass when `password` is the user's own, or when `confirmed_at` (the screen session's last confirmation)
    is under five minutes old; otherwise raise PasswordConfirmationRequired (HTTP 403)."""
    if confirmed_at is not None and dt.timedelta(0) <= clock.now() - confirmed_at <= FRESH_FOR:
        return
    if password and "\x00" not in password and verify_password(user.password_hash, password):
        return
    raise PasswordConfirmationRequired(N_("Confirm your password to do this."))
