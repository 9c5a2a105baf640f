"""The registers API: request → 202 → a real worker builds → download; reuse; permissions; submissions;
the public verification pages."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from core.models import Cohort, CohortType, Institution, User
from tests.attendance_factories import make_session
from tests.registers_factories import (
    ARABIC,
    add_learners,
    enrolments_by_name,
    mark,
    past_session,
    wait_until_built,
)


@pytest.fixture
def yesterday(sql, demo):
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    return session_id


def test_request_poll_and_download_a_session_register(app, live_worker, client, api, yesterday):
    teacher = api("teacher")  # a facilitator of the cohort may ask for its registers
    started = client.post("/api/registers", headers=teacher, json={"kind": "session", "session_id": yesterday})
    assert started.status_code == 202, started.json
    body = started.json
    assert set(body) >= {"id", "kind", "format", "status", "status_url", "download_url", "sha256", "reference",
                         "error"}
    assert (body["kind"], body["format"], body["download_url"]) == ("session", "pdf", None)
    assert body["status"] in ("PENDING", "BUILDING")  # the job is sent at commit: a worker may have it already
    assert body["status_url"] == f"/api/registers/{body['id']}"
    done = wait_until_built(client, body["status_url"], teacher)
    assert done["status"] == "READY" and done["error"] is None
    pdf = client.get(done["download_url"], headers=teacher)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "register-welding-intake-1-" in disposition
    assert done["reference"] in disposition and disposition.endswith('.pdf"')
    assert hashlib.sha256(pdf.data).hexdigest() == done["sha256"]
    again = client.post("/api/registers", headers=api("admin"), json={"kind": "session", "session_id": yesterday})
    assert again.status_code == 200 and again.json["id"] == body["id"]  # unchanged data: served again


def test_cohort_registers_in_xlsx_and_csv(app, live_worker, client, api, sql, demo, yesterday):
    cohort = sql.get(Cohort, demo["public_cohort_id"])
    admin = api("admin")
    for fmt, media in (("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                       ("csv", "text/csv")):
        started = client.post("/api/registers", headers=admin, json={
            "kind": "cohort", "cohort_id": cohort.id, "from": cohort.start_date.isoformat(),
            "to": cohort.end_date.isoformat(), "format": fmt, "language": "fr"})
        assert started.status_code == 202, started.json
        done = wait_until_built(client, started.json["status_url"], admin)
        assert done["status"] == "READY" and done["format"] == fmt and done["language"] == "fr"
        response = client.get(done["download_url"], headers=admin)
        assert response.mimetype == media and response.headers["Content-Disposition"].endswith(f'.{fmt}"')


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "session"}, None),
    ({"kind": "cohort", "cohort_id": 1, "from": "2026-01-10"}, None),
    ({"kind": "cohort", "cohort_id": 1, "from": "2026-02-10", "to": "2026-01-10"}, None),
    ({"kind": "session", "session_id": 1, "format": "docx"}, "format"),
    ({"kind": "week", "session_id": 1}, "kind"),
    ({"kind": "session", "session_id": 2**31}, "session_id"),
])
def test_bad_requests_answer_422_with_details(client, api, demo, body, field):
    response = client.post("/api/registers", headers=api("admin"), json=body)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error" and error["details"]
    if field:
        assert error["details"][0]["field"] == field


def _other_tenant(sql) -> int:
    other = Institution(name="Elsewhere Academy", slug="elsewhere", time_zone="Africa/Algiers")
    sql.add(other)
    sql.flush()
    cohort = Cohort(institution_id=other.id, name="Elsewhere cohort", cohort_type=CohortType.PUBLIC)
    sql.add(cohort)
    sql.commit()
    return cohort.id


def test_who_may_request_and_download(app, client, api, sql, demo, yesterday):
    # A document built in this process (no worker needed to check permissions).
    from core.registers import service
    from core.registers.commands import RequestRegister

    admin_user = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin_user, RequestRegister(kind="session", session_id=yesterday))
    service.build_document(sql, app.extensions["storage"], doc.id,
                           service.BuildSettings(base_url="http://testserver", processes=1))
    url = f"/api/registers/{doc.id}"
    body = {"kind": "session", "session_id": yesterday}
    # A facilitator of another cohort: the session, the document and its file do not exist for them.
    assert client.post("/api/registers", headers=api("teacher2"), json=body).status_code == 404
    assert client.get(url, headers=api("teacher2")).status_code == 404
    assert client.get(f"{url}/download", headers=api("teacher2")).status_code == 404
    # Roles without the right: 403.
    assert client.post("/api/registers", headers=api("support"), json=body).status_code == 403
    assert client.get(url, headers=api("org")).status_code == 403
    # The regulator with an approved request on this cohort reads and downloads, but does not build.
    assert client.get(f"{url}/download", headers=api("regulator")).status_code == 200
    assert client.post("/api/registers", headers=api("regulator"), json=body).status_code == 403
    # Another tenant's cohort: 404, and nothing is created.
    elsewhere = _other_tenant(sql)
    response = client.post("/api/registers", headers=api("admin"), json={
        "kind": "cohort", "cohort_id": elsewhere, "from": "2026-01-01", "to": "2026-01-31"})
    assert response.status_code == 404
    assert client.get("/api/registers/999999", headers=api("admin")).status_code == 404


def test_submissions_api(app, client, api, login, sql, demo, yesterday):
    from core.registers import service
    from core.registers.commands import RequestRegister

    admin = api("admin")
    assert client.post(f"/api/institution/class-sessions/{yesterday}/lock", headers=admin,
                       json={"reason": "done"}).status_code == 200
    admin_user = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin_user, RequestRegister(kind="session", session_id=yesterday))
    service.build_document(sql, app.extensions["storage"], doc.id,
                           service.BuildSettings(base_url="http://testserver", processes=1))
    assert client.post("/api/submissions", headers=api("teacher"),
                       json={"register_document_id": doc.id}).status_code == 403
    created = client.post("/api/submissions", headers=admin, json={"register_document_id": doc.id})
    assert created.status_code == 201, created.json
    assert set(created.json) >= {"id", "register_document_id", "sha256", "submitted_at", "amended_since"}
    assert created.json["sha256"] == doc.sha256 and created.json["amended_since"] is None
    # The audit chain head when it was submitted, and the trail still holding through it.
    assert created.json["trail_seq"] > 0 and len(created.json["trail_hash"]) == 64
    assert created.json["trail_holds"] is True and created.json["trail_changed"] is False
    assert client.post("/api/submissions", headers=admin,
                       json={"register_document_id": doc.id}).json["error"]["code"] == "already_submitted"
    client.post(f"/api/institution/class-sessions/{yesterday}/unlock", headers=admin, json={"reason": "fix"})
    listed = client.get("/api/submissions", headers=admin).json
    assert listed["total"] == 1 and listed["items"][0]["amended_since"] is not None
    assert listed["items"][0]["trail_changed"] is True  # amended: the trail moved on past the submission
    screen = login("admin").get("/institution/submissions").get_data(as_text=True)
    assert "Trail changed since submission" in screen and f"Head at submission: {created.json['trail_seq']}" in screen
    assert client.get("/api/submissions", headers=api("teacher2")).json["total"] == 0


def test_public_verification_pages(app, client, sql, demo, yesterday):
    from core.registers import service
    from core.registers.commands import RequestRegister

    add_learners(sql, demo["public_cohort_id"], demo["institution_id"], [ARABIC])
    admin_user = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin_user, RequestRegister(kind="session", session_id=yesterday))
    doc = service.build_document(sql, app.extensions["storage"], doc.id,
                                 service.BuildSettings(base_url="http://testserver", processes=1))
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{doc.reference}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Demo Training Institute" in html and doc.sha256 in html
    assert "Yacine" not in html and ARABIC not in html  # no trainee data
    assert anonymous.get("/verify/RXXXX-XXXX-XXXX").status_code == 404
    with app.extensions["storage"].open(doc.storage_key) as f:
        genuine = f.read()
    import io

    ok = anonymous.post("/verify", data={"file": (io.BytesIO(genuine), "register.pdf")},
                        content_type="multipart/form-data")
    assert 'data-match="true"' in ok.get_data(as_text=True)
    changed = bytearray(genuine)
    changed[-100] ^= 0x20
    bad = anonymous.post("/verify", data={"file": (io.BytesIO(bytes(changed)), "register.pdf")},
                         content_type="multipart/form-data")
    assert 'data-match="false"' in bad.get_data(as_text=True)


def test_corporate_session_registers_work_too(app, client, api, sql, demo):
    from core.registers import service
    from core.registers.commands import RequestRegister

    day_session = make_session(sql, demo["corporate_cohort_id"], __import__("datetime").date(2026, 1, 5))
    admin_user = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin_user, RequestRegister(kind="session", session_id=day_session))
    built = service.build_document(sql, app.extensions["storage"], doc.id,
                                   service.BuildSettings(base_url="http://testserver", processes=1))
    assert built.status.value == "READY"
    assert sql.scalar(select(Cohort.cohort_type).where(Cohort.id == built.cohort_id)) == CohortType.CORPORATE
