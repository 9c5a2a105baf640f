"""Mail about access requests, through a real SMTP server on loopback, sent by a real worker: the
institution's admins hear of a new request, the regulator of the decision; never twice; retried."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import delete, select

from core import clock
from core.access import notices
from core.models import AccessRequest, AccessRequestNotice, ReminderStatus, Role
from tests.mailbox import mail_text
from tests.portal_factories import add_user

REASON = "Quarterly QCTO audit of the attendance registers"


def _wait_until_sent(sql, expected: int, timeout: float = 30) -> list[AccessRequestNotice]:
    deadline = time.monotonic() + timeout
    while True:
        sql.rollback()
        rows = list(sql.scalars(select(AccessRequestNotice).order_by(AccessRequestNotice.id)))
        if len([r for r in rows if r.status == ReminderStatus.SENT]) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def _ask(client, api, demo) -> int:
    response = client.post("/api/access-requests", headers=api("regulator"), json={
        "institution_id": demo["institution_id"], "scope": "cohorts", "cohort_ids": [demo["public_cohort_id"]],
        "reason": REASON})
    assert response.status_code == 201
    return response.get_json()["id"]


def test_the_institutions_admins_are_told_of_a_new_request(client, api, live_worker, smtp, sql, demo):
    sql.execute(delete(AccessRequest))
    sql.commit()
    _ask(client, api, demo)
    rows = _wait_until_sent(sql, 2)
    assert {r.status for r in rows} == {ReminderStatus.SENT} and len(rows) == 2  # admin and super admin
    mails = smtp.to("admin@demo.example")
    assert len(mails) == 1 and mails[0]["Subject"] == "Access request from Rania Regulator (QCTO)"
    body = mail_text(mails[0])
    assert "regulator@demo.example" in body and "Welding — Intake 1" in body and REASON in body
    assert "http://testserver/admin/access-requests" in body
    assert smtp.to("regulator@demo.example") == [] and smtp.to("teacher@demo.example") == []


def test_the_regulator_is_told_of_approval_and_revocation(client, api, live_worker, smtp, sql, demo):
    request_id = _ask(client, api, demo)
    until = (clock.now() + dt.timedelta(days=5)).replace(microsecond=0)
    assert client.post(f"/api/access-requests/{request_id}/approve", headers=api("admin"),
                       json={"expires_at": until.isoformat()}).status_code == 200
    _wait_until_sent(sql, 3)
    approved = smtp.to("regulator@demo.example")
    assert len(approved) == 1 and approved[0]["Subject"] == "Access to Demo Training Institute approved"
    assert until.strftime("%Y-%m-%d %H:%M UTC") in mail_text(approved[0])
    assert client.post(f"/api/access-requests/{request_id}/revoke", headers=api("admin"),
                       json={"reason": "Audit closed"}).status_code == 200
    _wait_until_sent(sql, 4)
    revoked = smtp.to("regulator@demo.example")[-1]
    assert revoked["Subject"] == "Access to Demo Training Institute revoked" and "Audit closed" in mail_text(revoked)


def test_a_denial_tells_the_regulator_why(client, api, live_worker, smtp, sql, demo):
    request_id = _ask(client, api, demo)
    assert client.post(f"/api/access-requests/{request_id}/deny", headers=api("admin"),
                       json={"reason": "No audit is scheduled"}).status_code == 200
    _wait_until_sent(sql, 3)
    denied = smtp.to("regulator@demo.example")
    assert len(denied) == 1 and "No audit is scheduled" in mail_text(denied[0])


def test_a_failing_server_is_retried_and_nothing_goes_twice(app, sql, smtp, demo):
    from core.access.commands import CreateAccessRequest
    from core.access.requests import request_access
    from core.models import Job, User
    from tasks import mail_settings

    add_user(sql, "admin2@demo.example", Role.ADMIN, "Second Admin", demo["institution_id"])
    req = request_access(sql, sql.get(User, demo["users"]["regulator"]), CreateAccessRequest(
        institution_id=demo["institution_id"], scope="institution", reason=REASON))
    owed = list(sql.scalars(select(AccessRequestNotice.id).order_by(AccessRequestNotice.id)))
    assert len(owed) == 3
    assert sql.scalars(select(Job.entity_id).where(Job.kind == "access.send_notice")).all() == owed
    smtp.refuse = {"admin2@demo.example"}
    with app.app_context():
        settings = mail_settings()
    first = [notices.deliver(sql, settings, "http://testserver", n) for n in owed]
    assert sorted(first) == [notices.FAILED, notices.SENT, notices.SENT]
    failed = sql.scalar(select(AccessRequestNotice).where(AccessRequestNotice.status == ReminderStatus.FAILED))
    # (Its attempts are its job's: one per claim by a worker; deliver() is called directly here.)
    assert "mailbox unavailable" in failed.last_error and failed.sent_at is None
    smtp.refuse = set()
    assert notices.deliver(sql, settings, "http://testserver", failed.id) == notices.SENT
    assert len(smtp.to("admin2@demo.example")) == 1 and len(smtp.to("admin@demo.example")) == 1
    assert [notices.deliver(sql, settings, "http://testserver", n) for n in owed] == [notices.NOTHING_TO_DO] * 3
    assert req.id
