"""A regulator reads submitted ATTENDANCE_REGISTER documents in scope, read-only, while an approved access
request is in force; after expiry or revocation nothing. Every read is audited under the grant that allowed it.
Real registers: built by WeasyPrint into private storage, submitted through the service."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import delete, select

from core import clock
from core.models import AccessRequest, AccessRequestRead, User
from core.registers import service, submissions
from core.registers.commands import RequestRegister, SubmitRegister
from tests.portal_factories import second_institution
from tests.registers_factories import add_learners, past_session

SETTINGS = service.BuildSettings(base_url="http://testserver", processes=1)
REASON = "Quarterly QCTO audit of the attendance registers"


def _submitted(app, sql, admin_id: int, cohort_id: int) -> dict[str, object]:
    """A session three days past (locked by the cut-off), its register built and submitted by an admin."""
    session_id, _day = past_session(sql, cohort_id, days_ago=3)
    admin = sql.get(User, admin_id)
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id))
    doc = service.build_document(sql, app.extensions["storage"], doc.id, SETTINGS)
    view = submissions.submit(sql, admin, SubmitRegister(register_document_id=doc.id))
    return {"submission_id": view.id, "document_id": doc.id, "sha256": doc.sha256, "reference": doc.reference,
            "cohort_id": cohort_id}


@pytest.fixture
def submitted(app, sql, demo):
    """Submitted registers of the demo's public and corporate cohorts and of another institution; the regulator
    starts with no access."""
    sql.execute(delete(AccessRequest))
    sql.commit()
    other = second_institution(sql)
    add_learners(sql, other["cohort_id"], other["institution_id"], ["Omar Other"])  # nobody: a register is refused
    return {"public": _submitted(app, sql, demo["users"]["admin"], demo["public_cohort_id"]),
            "corporate": _submitted(app, sql, demo["users"]["admin"], demo["corporate_cohort_id"]),
            "other": _submitted(app, sql, other["admin_id"], other["cohort_id"])}


def _grant(client, api, demo, scope: str = "cohorts") -> int:
    cohort_ids = [demo["public_cohort_id"]] if scope == "cohorts" else []
    made = client.post("/api/access-requests", headers=api("regulator"), json={
        "institution_id": demo["institution_id"], "scope": scope, "cohort_ids": cohort_ids, "reason": REASON})
    assert made.status_code == 201, made.get_json()
    request_id = made.get_json()["id"]
    until = (clock.now() + dt.timedelta(days=7)).isoformat()
    approved = client.post(f"/api/access-requests/{request_id}/approve", headers=api("admin"),
                           json={"expires_at": until})
    assert approved.status_code == 200, approved.get_json()
    return request_id


def _reads(sql) -> list[AccessRequestRead]:
    sql.expire_all()
    return list(sql.scalars(select(AccessRequestRead).order_by(AccessRequestRead.id)))


def test_a_regulator_reads_submitted_registers_in_scope_and_each_read_is_audited_with_its_grant(
        client, api, login, sql, demo, submitted):
    grant_id = _grant(client, api, demo)
    public = submitted["public"]
    headers = api("regulator")
    listed = client.get("/api/submissions", headers=headers)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [i["id"] for i in items] == [public["submission_id"]]
    assert items[0]["sha256"] == public["sha256"] and items[0]["reference"] == public["reference"]
    assert items[0]["download_url"] == f"/api/registers/{public['document_id']}/download"
    download = client.get(items[0]["download_url"], headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == public["sha256"]  # the very file that was submitted
    browser = login("regulator")
    cohort_page = browser.get(f"/regulator/cohorts/{demo['public_cohort_id']}").get_data(as_text=True)
    assert public["reference"] in cohort_page
    assert f"/institution/registers/{public['document_id']}/download" in cohort_page
    assert browser.get(f"/institution/registers/{public['document_id']}/download").status_code == 200
    reads = _reads(sql)
    assert {r.access_request_id for r in reads} == {grant_id}
    downloads = [r for r in reads if r.resource_type == "register_document"]
    assert [(r.endpoint, r.resource_id, r.cohort_id) for r in downloads] == [
        ("registers.api_download", public["document_id"], demo["public_cohort_id"]),
        ("registers.download", public["document_id"], demo["public_cohort_id"])]
    assert "registers.api_submissions" in {r.endpoint for r in reads}
    shown = client.get(f"/api/access-requests/{grant_id}/reads", headers=api("admin")).get_json()
    assert f"/api/registers/{public['document_id']}/download" in {i["path"] for i in shown["items"]}


def test_reading_is_all_a_regulator_may_do_with_a_submission(client, api, sql, demo, submitted):
    _grant(client, api, demo)
    headers = api("regulator")
    again = client.post("/api/submissions", headers=headers,
                        json={"register_document_id": submitted["public"]["document_id"]})
    assert again.status_code == 403
    rebuilt = client.post("/api/registers", headers=headers,
                          json={"kind": "session", "session_id": 1})
    assert rebuilt.status_code == 403


def test_a_submission_of_a_cohort_outside_the_request_is_refused(client, api, sql, demo, submitted):
    _grant(client, api, demo)  # the public cohort only
    headers = api("regulator")
    corporate = submitted["corporate"]
    assert client.get(f"/api/registers/{corporate['document_id']}/download", headers=headers).status_code == 404
    assert client.get(f"/api/registers/{corporate['document_id']}", headers=headers).status_code == 404
    listed = client.get("/api/submissions", headers=headers).get_json()
    assert corporate["submission_id"] not in {i["id"] for i in listed["items"]}
    assert [r for r in _reads(sql) if r.resource_id == corporate["document_id"]] == []


@pytest.mark.parametrize("ending", ["expiry", "revocation"])
def test_after_expiry_or_revocation_submitted_registers_are_refused(client, api, sql, demo, submitted, ending):
    grant_id = _grant(client, api, demo)
    headers = api("regulator")
    url = f"/api/registers/{submitted['public']['document_id']}/download"
    assert client.get(url, headers=headers).status_code == 200
    before = len(_reads(sql))
    if ending == "revocation":
        revoked = client.post(f"/api/access-requests/{grant_id}/revoke", headers=api("admin"),
                              json={"reason": "Audit finished early"})
        assert revoked.status_code == 200
        answers = [client.get(url, headers=headers), client.get("/api/submissions", headers=headers)]
    else:
        with clock.frozen_at(clock.now() + dt.timedelta(days=8)):
            answers = [client.get(url, headers=headers), client.get("/api/submissions", headers=headers)]
    assert [a.status_code for a in answers] == [403, 403]
    assert len(_reads(sql)) == before  # a refused read is not recorded


def test_another_institutions_submissions_stay_closed_to_a_whole_institution_grant(client, api, sql, demo,
                                                                                   submitted):
    _grant(client, api, demo, scope="institution")
    headers = api("regulator")
    other = submitted["other"]
    assert client.get(f"/api/registers/{other['document_id']}/download", headers=headers).status_code == 404
    listed = {i["id"] for i in client.get("/api/submissions", headers=headers).get_json()["items"]}
    assert listed == {submitted["public"]["submission_id"], submitted["corporate"]["submission_id"]}
    assert [r for r in _reads(sql) if r.cohort_id == other["cohort_id"]] == []
