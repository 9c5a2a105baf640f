"""Celery task definitions: each a short adapter that takes ids and calls one domain service.

Tasks run inside the Flask app context (the worker's FlaskTask), so they reach the session, the
private storage and the settings through `current_app`; they never import web/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from core.mail import MailSettings
from core.storage import PrivateStorage


def db_session() -> Session:
    return current_app.extensions["sqlalchemy"].session  # type: ignore[no-any-return]


def storage() -> PrivateStorage:
    return current_app.extensions["storage"]  # type: ignore[no-any-return]


def setting(name: str) -> Any:
    return current_app.config[name]


def translations_dir() -> str:
    """The catalogues (web/translations), for mails each in its own reader's language."""
    return str(Path(current_app.root_path) / current_app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations"))


def mail_settings() -> MailSettings:
    c = current_app.config
    return MailSettings(backend=c["MAIL_BACKEND"], host=c["MAIL_HOST"], port=c["MAIL_PORT"],
                        username=c["MAIL_USERNAME"], password=c["MAIL_PASSWORD"], use_tls=c["MAIL_USE_TLS"],
                        use_ssl=c["MAIL_USE_SSL"], sender=c["MAIL_FROM"], file_dir=c["MAIL_FILE_DIR"])
