"""Fixtures for worker tests that send mail: a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port
from tests.mailbox import Mailbox


@pytest.fixture
def smtp(app) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    keys = ("MAIL_BACKEND", "MAIL_HOST", "MAIL_PORT", "REMINDER_RETRY_SECONDS")
    saved = {k: app.config[k] for k in keys}
    app.config.update(MAIL_BACKEND="smtp", MAIL_HOST="127.0.0.1", MAIL_PORT=controller.port,
                      REMINDER_RETRY_SECONDS=1)
    try:
        yield box
    finally:
        app.config.update(saved)
        controller.stop()
