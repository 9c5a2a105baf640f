"""A regulator reads registers only while an approved access request is in force; access ends by itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from core import clock
from core.models import AccessRequest


def _no_requests(app):
    from web.extensions import db

    with app.app_context():
        db.session.execute(delete(AccessRequest))
        db.session.commit()
        db.session.remove()


def test_regulator_without_an_approved_request_sees_nothing(app, login):
    regulator = login("regulator")
    _no_requests(app)
    assert regulator.get("/admin").status_code == 403
    assert regulator.get("/regulator").status_code == 200  # may still ask


def test_request_approve_then_expire(app, login, demo):
    regulator, admin = login("regulator"), login("admin")
    _no_requests(app)
    asked = regulator.post("/regulator", data={"institution_id": demo["institution_id"], "cohort_id": "",
                                                "reason": "Quarterly audit of the registers"})
    assert asked.status_code == 302
    from web.extensions import db

    with app.app_context():
        request_id = db.session.query(AccessRequest.id).scalar()
    assert admin.post(f"/admin/access-requests/{request_id}/decide",
                      data={"decision": "approve", "days": "7"}).status_code == 302
    assert regulator.get("/admin").status_code == 200
    with clock.frozen_at(clock.now() + dt.timedelta(days=8)):
        assert regulator.get("/admin").status_code == 403


def test_a_short_reason_is_refused_with_a_message(app, login, demo):
    regulator = login("regulator")
    response = regulator.post("/regulator", data={"institution_id": demo["institution_id"], "reason": "x"},
                              follow_redirects=True)
    assert b"at least 10 characters" in response.data


def test_teacher_cannot_approve_requests(login):
    assert login("teacher").post("/admin/access-requests/1/decide", data={"decision": "approve"}).status_code == 403
