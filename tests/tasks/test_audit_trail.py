"""The nightly audit-trail check on a real worker and a real SMTP server: an unbroken trail mails no one; a row
changed with SQL is told once to the institution's admins, however many times the job runs."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core.attendance import service
from core.attendance.commands import MarkRegister
from core.models import AuditChainAlert, AuditEvent, User
from tasks.audit_trail import verify_trail
from tests.attendance_factories import members, started_open_session
from tests.mailbox import mail_text


def _mark_a_register(sql, demo) -> None:
    session_id = started_open_session(sql, demo["public_cohort_id"])
    service.mark(sql, sql.get(User, demo["users"]["teacher"]), MarkRegister(
        session_id=session_id, records=[{"enrolment_id": i, "status": "PRESENT"}
                                        for i in members(sql, demo["public_cohort_id"])]))


def _tamper_one_demo_row(sql, demo) -> int:
    _mark_a_register(sql, demo)
    row_id = sql.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.institution_id == demo["institution_id"]))
    sql.execute(text("UPDATE audit_events SET action = 'attendance.forged' WHERE id = :id"), {"id": row_id})
    sql.commit()
    return row_id


def test_an_unbroken_trail_mails_no_one(app, live_worker, smtp, sql, demo):
    _mark_a_register(sql, demo)
    with app.app_context():
        result = verify_trail.delay().get(timeout=60)
    assert result["broken"] == 0 and result["mailed"] == 0 and result["rows"] > 0
    assert smtp.messages == []


def test_a_break_is_mailed_to_the_institutions_admins_once(app, live_worker, smtp, sql, demo):
    row_id = _tamper_one_demo_row(sql, demo)
    with app.app_context():
        first = verify_trail.delay().get(timeout=60)
        second = verify_trail.delay().get(timeout=60)
    assert (first["broken"], first["mailed"]) == (1, 1)
    assert (second["broken"], second["mailed"]) == (1, 0)
    mails = smtp.to("admin@demo.example")
    assert len(mails) == 1 and "Audit trail broken" in mails[0]["Subject"]
    assert f"Row {row_id} " in mail_text(mails[0]) and "content_changed" in mail_text(mails[0])
    assert smtp.to("super@demo.example") == []  # the demo institution's chain: its admins, not the platform's
    assert sql.scalar(select(func.count()).select_from(AuditChainAlert)) == 1
