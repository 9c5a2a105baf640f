"""Trainee import screens and API: upload answers at once, status/rows/errors.csv, commit, cancel, trainees.

The worker is not running here: enqueued task names are recorded, and the test runs the service the
task would run (tests/tasks/test_import_tasks.py does the same through a real worker).
"""

from __future__ import annotations

import io

import pytest

from core.imports import commit, service
from web.extensions import db

CSV = ("full_name;phone;email\r\n"
       "Amel Bouzid;0555 12 34 56;amel@example.com\r\n"
       "=cmd|' /C calc'!A0;+33612345678;bad@\r\n"
       "Karim Mansouri;0770123456;\r\n")


@pytest.fixture
def sent(published):
    return published


def _post(client, cohort_id, data: bytes, headers, name="trainees.csv"):
    return client.post(f"/api/corporate-cohorts/{cohort_id}/trainee-imports", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _validate(app, import_id):
    with app.app_context():
        service.validate_import(db.session, app.extensions["storage"], import_id)
        db.session.remove()


def _commit(app, import_id):
    with app.app_context():
        commit.commit_trainees(db.session, import_id)
        db.session.remove()


@pytest.fixture
def validated(app, client, api, demo, sent):
    h = api("admin")
    r = _post(client, demo["corporate_cohort_id"], CSV.encode(), h)
    _validate(app, r.json["id"])
    return r.json["id"], h


def test_upload_answers_202_with_a_status_url_and_enqueues_validation(client, api, demo, sent):
    r = _post(client, demo["corporate_cohort_id"], CSV.encode(), api("admin"))
    assert r.status_code == 202
    assert r.json["status"] == "UPLOADED" and r.json["status_url"] == f"/api/trainee-imports/{r.json['id']}"
    assert sent == [("imports.validate", (r.json["id"],))]


def test_upload_without_a_file_is_a_clear_422(client, api, demo, sent):
    r = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports", headers=api("admin"),
                    data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["error"]["code"] == "file_missing" and sent == []


def test_upload_over_the_limit_is_413_with_a_message(app, client, api, demo, sent):
    app.config.update(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=None)  # the streaming save enforces it too
    try:
        r = _post(client, demo["corporate_cohort_id"], b"full_name\n" + b"x" * (1024 * 1024 + 10), api("admin"))
    finally:
        app.config.update(MAX_UPLOAD_MB=50, MAX_CONTENT_LENGTH=50 * 1024 * 1024 + 64 * 1024)
    assert r.status_code == 413 and "1 MB" in r.json["error"]["message"] and sent == []


def test_request_over_max_content_length_is_413_json(app, client, api, demo, sent):
    app.config.update(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=1024 * 1024)
    try:
        r = _post(client, demo["corporate_cohort_id"], b"x" * (1024 * 1024 + 10), api("admin"))
    finally:
        app.config.update(MAX_UPLOAD_MB=50, MAX_CONTENT_LENGTH=50 * 1024 * 1024 + 64 * 1024)
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"


def test_support_may_not_import(client, api, demo, sent):
    assert _post(client, demo["corporate_cohort_id"], CSV.encode(), api("support")).status_code == 403


def test_import_into_a_public_cohort_is_refused(client, api, demo, sent):
    assert _post(client, demo["public_cohort_id"], CSV.encode(), api("admin")).status_code == 404


def test_import_into_a_cancelled_cohort_is_a_clear_422(client, api, demo, sent):
    h = api("admin")
    client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/cancel", headers=h)
    r = _post(client, demo["corporate_cohort_id"], CSV.encode(), h)
    assert r.status_code == 422 and r.json["error"]["code"] == "cohort_not_active"


def test_status_reports_progress_counts_and_links(client, validated):
    import_id, h = validated
    body = client.get(f"/api/trainee-imports/{import_id}", headers=h).json
    assert body["status"] == "VALIDATED" and body["progress"] == {"rows_done": 3, "rows_total": 3}
    assert body["counts"] == {"valid": 2, "invalid": 1, "by_reason": {"phone_not_dz": 1, "email_invalid": 1},
                              "possible_duplicates": 0}
    assert body["links"]["errors_csv"] == f"/api/trainee-imports/{import_id}/errors.csv"
    assert body["original_filename"] == "trainees.csv" and body["uploaded_by"]["name"] == "Amine Admin"


def test_rows_can_be_filtered_to_errors(client, validated):
    import_id, h = validated
    body = client.get(f"/api/trainee-imports/{import_id}/rows?ok=false&page=1", headers=h).json
    assert body["total"] == 1
    (row,) = body["items"]
    assert (row["row"], row["ok"]) == (2, False)
    assert [e["code"] for e in row["errors"]] == ["phone_not_dz", "email_invalid"]


def test_error_report_csv_neutralizes_formulas(client, validated):
    import_id, h = validated
    r = client.get(f"/api/trainee-imports/{import_id}/errors.csv", headers=h)
    assert r.data.startswith("\ufeff".encode())  # a BOM: spreadsheet programs show accents right
    lines = r.get_data(as_text=True).removeprefix("\ufeff").splitlines()
    assert r.mimetype == "text/csv" and lines[0] == "row,column,value,reason,message"
    assert lines[1].startswith("2,phone,'+33612345678,phone_not_dz,")


def test_error_report_of_a_file_named_in_arabic_downloads_under_its_name(app, client, api, demo, sent):
    h = api("admin")
    r = _post(client, demo["corporate_cohort_id"], CSV.encode(), h, name="متدربون.csv")
    _validate(app, r.json["id"])
    download = client.get(f"/api/trainee-imports/{r.json['id']}/errors.csv", headers=h)
    disposition = download.headers["Content-Disposition"]
    assert download.status_code == 200 and disposition.isascii()
    assert disposition.endswith("filename*=UTF-8''%D9%85%D8%AA%D8%AF%D8%B1%D8%A8%D9%88%D9%86-errors.csv")


def test_commit_answers_202_then_trainees_appear(app, client, validated, sent, demo):
    import_id, h = validated
    r = client.post(f"/api/trainee-imports/{import_id}/commit", headers=h)
    assert r.status_code == 202 and r.json["status"] == "COMMITTING"
    assert sent[-1] == ("imports.commit", (import_id,))
    _commit(app, import_id)
    assert client.get(f"/api/trainee-imports/{import_id}", headers=h).json["inserted_count"] == 2
    found = client.get(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainees?q=amel", headers=h).json
    assert [t["phone_e164"] for t in found["items"]] == ["+213555123456"]


def test_commit_of_an_unvalidated_import_is_409(client, api, demo, sent):
    h = api("admin")
    r = _post(client, demo["corporate_cohort_id"], CSV.encode(), h)
    assert client.post(f"/api/trainee-imports/{r.json['id']}/commit", headers=h).status_code == 409


def test_cancel_via_api(client, validated):
    import_id, h = validated
    assert client.post(f"/api/trainee-imports/{import_id}/cancel", headers=h).json["status"] == "CANCELLED"


def test_history_lists_imports(client, validated, demo):
    import_id, h = validated
    items = client.get(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports", headers=h).json["items"]
    assert [i["id"] for i in items] == [import_id]


def test_trainee_list_is_paged(client, api, demo):
    body = client.get(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainees?per_page=4&page=3",
                      headers=api("support")).json
    assert (body["total"], body["pages"], len(body["items"])) == (10, 3, 2)


def test_teacher_of_another_cohort_cannot_see_an_import(client, validated, api):
    import_id, _ = validated
    assert client.get(f"/api/trainee-imports/{import_id}", headers=api("teacher2")).status_code == 404


# ---------------------------------------------------------------- screens


def test_upload_screen_redirects_to_the_status_page(login, demo, sent):
    c = login("admin")
    assert c.get(f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}/trainees/import").status_code == 200
    r = c.post(f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}/trainees/import",
               data={"file": (io.BytesIO(CSV.encode()), "t.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302 and "/admin/trainee-imports/" in r.headers["Location"]
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-in-progress="true"' in page and '<progress' in page


def test_status_page_shows_preview_and_commit_button(app, login, demo, sent):
    c = login("admin")
    r = c.post(f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}/trainees/import",
               data={"file": (io.BytesIO(CSV.encode()), "t.csv")}, content_type="multipart/form-data")
    import_id = int(r.headers["Location"].rsplit("/", 1)[1])
    _validate(app, import_id)
    page = c.get(f"/admin/trainee-imports/{import_id}").get_data(as_text=True)
    assert 'data-testid="commit-button"' in page and "Not an Algerian number" in page
    assert c.post(f"/admin/trainee-imports/{import_id}/commit").status_code == 302


def test_history_and_trainee_screens_render(login, demo):
    c = login("support")
    assert c.get(f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}/imports").status_code == 200
    page = c.get(f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}/trainees?q=asma").get_data(as_text=True)
    assert "Asma Khelifi" in page and "Farid Touati" not in page
