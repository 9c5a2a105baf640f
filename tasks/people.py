"""Celery task for people: mail a password link (reset, or first password for a new account)."""

from __future__ import annotations

import smtplib

from celery import shared_task
from sqlalchemy.exc import OperationalError

from core.people import resets
from tasks import db_session, mail_settings, setting

SUBJECT = "Choose your password"
TEXT = ("Hello {name},\n\nUse this link to choose your password for the attendance platform:\n\n{url}\n\n"
        "It works once and expires in 24 hours. If you did not ask for it, ignore this message.\n")


@shared_task(name="people.send_password_link", bind=True, acks_late=True, max_retries=5,
             autoretry_for=(OperationalError, smtplib.SMTPException, OSError), retry_backoff=30)
def send_password_link(self, user_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Mail a fresh link (built here, so the broker never carries one). Redelivery sends another valid link."""
    return resets.send_reset_mail(db_session(), mail_settings(), setting("SECRET_KEY"), setting("BASE_URL"),
                                  user_id, SUBJECT, TEXT)
