"""Mails in their reader's language, sent by a real worker to a real SMTP server on loopback: the user's own
language first, else their institution's default."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header

import pytest
from sqlalchemy import update

from core import clock
from core.attendance import service as attendance
from core.attendance.commands import MarkRegister
from core.models import Institution, User
from tasks.reminders import send_at_risk_digests, send_unmarked_reminders
from tests.attendance_factories import make_session, members
from tests.mailbox import mail_text

FRENCH_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _html(message) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
    return part.get_payload(decode=True).decode()


def _set(sql, model, row_id: int, **values) -> None:
    sql.execute(update(model).where(model.id == row_id).values(**values))
    sql.commit()


# Monday 10:30 in Algiers: yesterday was a Sunday (no demo session), Friday's demo registers have locked and
# today's have not ended, so the sessions a test makes yesterday are the only registers left to mark.
ONLY_OWN_SESSIONS_DUE = pytest.mark.clock_at("2026-11-16T10:30", zone="Africa/Algiers")


@ONLY_OWN_SESSIONS_DUE
def test_a_french_speaking_facilitator_gets_the_reminder_in_french(app, live_worker, smtp, sql, demo):
    _set(sql, User, demo["users"]["teacher"], language="fr")
    yesterday = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    for hour in (6, 7):
        make_session(sql, demo["public_cohort_id"], yesterday, dt.time(hour), dt.time(hour + 1),
                     instructor_id=demo["users"]["teacher"])
    with app.app_context():
        assert send_unmarked_reminders.delay().get(timeout=60)["sent"] == 1
    [mail] = smtp.to("teacher@demo.example")
    assert _subject(mail) == "2 registres encore à remplir"
    body = mail_text(mail)
    assert body.startswith("Bonjour ") and "non marqués. Verrouillage :" in body
    assert "Une fois la séance verrouillée, seul un administrateur peut modifier son registre." in body
    assert any(f"{day} " in body for day in FRENCH_DAYS)  # the session's day as French writes it
    assert "(Africa/Algiers)" in body  # times stay in the institution's zone
    assert "registers still to mark" not in body and "Hello" not in body


def test_without_a_preference_the_institution_default_decides(app, live_worker, smtp, sql, demo):
    _set(sql, Institution, demo["institution_id"], default_language="ar")
    learner = members(sql, demo["public_cohort_id"])[0]
    teacher = sql.get(User, demo["users"]["teacher"])
    today = clock.today_in("Africa/Algiers")
    for offset in (3, 2, 1):
        day = today - dt.timedelta(days=offset)
        sid = make_session(sql, demo["public_cohort_id"], day, dt.time(19), dt.time(20))
        with clock.frozen_at(clock.local_to_utc(day, dt.time(21), "Africa/Algiers")):
            attendance.mark(sql, teacher, MarkRegister(session_id=sid,
                                                       records=[{"enrolment_id": learner, "status": "ABSENT"}]))
    with app.app_context():
        assert send_at_risk_digests.delay().get(timeout=60)["sent"] == 1
    [mail] = smtp.to("admin@demo.example")
    assert _subject(mail) == "متدرب واحد معرض للخطر"  # Arabic's "one" form
    assert "تغيب عن آخر 3 حصص" in mail_text(mail)  # "few" form for 3
    assert _html(mail).startswith('<div dir="rtl" lang="ar">')


@ONLY_OWN_SESSIONS_DUE
def test_the_users_own_language_beats_the_institution_default(app, live_worker, smtp, sql, demo):
    _set(sql, Institution, demo["institution_id"], default_language="ar")
    _set(sql, User, demo["users"]["teacher"], language="en")
    yesterday = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    make_session(sql, demo["public_cohort_id"], yesterday, dt.time(6), dt.time(7),
                 instructor_id=demo["users"]["teacher"])
    with app.app_context():
        send_unmarked_reminders.delay().get(timeout=60)
    [mail] = smtp.to("teacher@demo.example")
    assert _subject(mail) == "1 register still to mark"
