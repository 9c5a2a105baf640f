"""Staff added without a password, on the screen and by `users create --invite`, are mailed a welcome link
(issue 27 point 3), read from the real loopback SMTP server."""

from __future__ import annotations

import re

import pytest

from tests.conftest import wait_for
from tests.mailbox import mail_text  # the `smtp` fixture is in tests/tasks/conftest.py

pytestmark = pytest.mark.redis


def test_staff_added_on_the_screen_without_a_password_get_a_welcome_link_that_works(app, client, login, smtp,
                                                                                    live_worker):
    r = login("admin").post("/admin/users", data={"full_name": "Nomsa New", "email": "nomsa@demo.example",
                                                  "role": "teacher", "password": "", "phone": "0550 12 34 56"})
    assert r.status_code == 302
    message = wait_for(lambda: smtp.to("nomsa@demo.example"))[-1]
    path = re.search(r"http://testserver(/password/reset/\S+)", mail_text(message)).group(1)
    assert client.post(path, data={"password": "nomsas-first-password"}).status_code == 302
    assert client.post("/login", data={"email": "nomsa@demo.example",
                                       "password": "nomsas-first-password"}).status_code == 302


def test_users_create_invite_mails_the_link(app, demo, smtp):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "boss2@demo.example", "--role",
                                                "admin", "--institution", "demo", "--invite"])
    assert result.exit_code == 0, result.output
    assert "mailed to boss2@demo.example" in result.output
    body = mail_text(smtp.to("boss2@demo.example")[-1])
    assert "/password/reset/" in body and body.startswith("Hello")
