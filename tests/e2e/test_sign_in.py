"""A person signs in through the real form in Chromium and lands on their role's screen."""

from __future__ import annotations


def test_teacher_signs_in_and_sees_their_sessions(page, sign_in_as, live_server):
    assert sign_in_as(page, "teacher").endswith("/teacher")
    assert page.get_by_role("heading", name="My sessions").is_visible()


def test_wrong_password_shows_a_message(page, live_server, demo):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("admin@demo.example")
    page.get_by_label("Password").fill("wrong-password!")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Wrong email or password").is_visible()
