"""Celery tasks for people: mail a password link, to reset a password or as a new account's welcome.

The words go through the catalogue in the reader's language (flask_babel `force_locale`, in the worker's
app context).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

from celery import shared_task
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy.exc import OperationalError

from core.people import resets
from core.people.resets import PasswordMail
from tasks import db_session, mail_settings, setting

RETRIED = (OperationalError, smtplib.SMTPException, OSError)


def _valid_for() -> str:
    hours = max(1, int(setting("PASSWORD_RESET_MAX_AGE")) // 3600)
    return ngettext("It works once and expires in %(num)d hour.", "It works once and expires in %(num)d hours.",
                    hours)


def reset_words(mail: PasswordMail) -> tuple[str, str]:
    with force_locale(mail.language):
        return gettext("Choose a new password"), "\n\n".join([
            gettext("Hello %(name)s,", name=mail.name),
            gettext("Use this link to choose a new password for the attendance platform:"),
            mail.url,
            _valid_for() + " " + gettext("If you did not ask for it, ignore this message: your password stays "
                                         "as it is."),
        ]) + "\n"


def welcome_words(mail: PasswordMail) -> tuple[str, str]:
    with force_locale(mail.language):
        where = mail.institution or gettext("the attendance platform")
        return gettext("Your account at %(where)s", where=where), "\n\n".join([
            gettext("Hello %(name)s,", name=mail.name),
            gettext("An account was made for you at %(where)s. Use this link to choose your password, then sign "
                    "in with your email address:", where=where),
            mail.url,
            _valid_for() + " " + gettext("If it has expired, ask for a new link on the sign-in page."),
        ]) + "\n"


def _send(user_id: int, compose: Callable[[PasswordMail], tuple[str, str]]) -> bool:
    """A fresh link is built here, so the broker never carries one; redelivery sends another valid link."""
    return resets.send_password_mail(db_session(), mail_settings(), setting("SECRET_KEY"), setting("BASE_URL"),
                                     user_id, compose)


@shared_task(name="people.send_password_link", bind=True, acks_late=True, max_retries=5,
             autoretry_for=RETRIED, retry_backoff=30)
def send_password_link(self, user_id: int) -> bool:  # type: ignore[no-untyped-def]
    return _send(user_id, reset_words)


@shared_task(name="people.send_welcome_link", bind=True, acks_late=True, max_retries=5,
             autoretry_for=RETRIED, retry_backoff=30)
def send_welcome_link(self, user_id: int) -> bool:  # type: ignore[no-untyped-def]
    return _send(user_id, welcome_words)
