"""Celery tasks for people: mail a password link, to reset a password or as a new account's welcome.

The words go through the catalogue in the reader's language (flask_babel `force_locale`, in the worker's
app context).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale, gettext, ngettext

from core.people import resets
from core.people.jobs import RESET_LINK, WELCOME_LINK
from core.people.resets import PasswordMail
from tasks import db_session, mail_settings, setting
from tasks.policy import job_task


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


# SMTP and database trouble are retried with backoff, as the kinds declare (core/people/jobs.py).
@job_task(RESET_LINK)
def send_password_link(user_id: int) -> bool:
    return _send(user_id, reset_words)


@job_task(WELCOME_LINK)
def send_welcome_link(user_id: int) -> bool:
    return _send(user_id, welcome_words)
