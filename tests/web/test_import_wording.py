"""What an import page says (issue 27, point 10): a learner file with wrong headers names the learner columns,
not the corporate trainees' ones, in the page's language."""

from __future__ import annotations

import io

from sqlalchemy import update

from core.imports.service import validate_import
from core.models import User


def _refused_learner_file(app, client, api, sql) -> int:
    r = client.post("/api/learner-imports", headers=api("admin"),
                    data={"file": (io.BytesIO(b"name;phone\nAda;0550112233\n"), "learners.csv")})
    assert r.status_code == 202, r.get_json()
    validate_import(sql, app.extensions["storage"], r.get_json()["id"])
    return r.get_json()["id"]


def test_a_learner_file_without_full_name_lists_the_learner_columns(app, client, api, login, sql, demo):
    import_id = _refused_learner_file(app, client, api, sql)
    body = client.get(f"/api/learner-imports/{import_id}", headers=api("admin")).get_json()
    assert body["status"] == "FAILED"
    assert "full_name, id_number, email, phone, date_of_birth" in str(body)
    assert "job_title" not in str(body) and "employee_code" not in str(body)
    page = login("admin").get(f"/admin/learner-imports/{import_id}").get_data(as_text=True)
    assert ("The header row has no full_name column. The first line must name the columns: "
            "full_name, id_number, email, phone, date_of_birth.") in page


def test_the_same_refusal_in_french(app, client, api, login, sql, demo):
    import_id = _refused_learner_file(app, client, api, sql)
    sql.execute(update(User).where(User.id == demo["users"]["admin"]).values(language="fr"))
    sql.commit()
    page = login("admin").get(f"/admin/learner-imports/{import_id}").get_data(as_text=True)
    assert ("La ligne d’en-tête n’a pas de colonne full_name. La première ligne doit nommer les colonnes : "
            "full_name, id_number, email, phone, date_of_birth.") in page


def _twice(app, client, api, demo, data: bytes) -> int:
    """Upload `data` twice to the corporate cohort, commit the first, validate the second: its id."""
    from core.imports import commit, service
    from web.extensions import db

    h = api("admin")
    ids = [client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports", headers=h,
                       data={"file": (io.BytesIO(data), "t.csv")}, content_type="multipart/form-data").json["id"]
           for _ in range(2)]
    with app.app_context():
        service.validate_import(db.session, app.extensions["storage"], ids[0])
        assert client.post(f"/api/trainee-imports/{ids[0]}/commit", headers=h).status_code == 202
        commit.commit_trainees(db.session, ids[0])
        service.validate_import(db.session, app.extensions["storage"], ids[1])
        db.session.remove()
    return ids[1]


def test_a_file_added_again_with_rows_to_add_shows_the_promised_confirmation(app, client, api, login, demo):
    again = _twice(app, client, api, demo, b"full_name,phone\nAmel,0555123456\nNadia Name Only,\n")
    page = login("admin").get(f"/admin/trainee-imports/{again}").get_data(as_text=True)
    assert "Adding it again needs your confirmation below." in page
    assert 'name="confirm_duplicate_file"' in page and "Yes, add this file again" in page


def test_a_file_added_again_with_nothing_left_to_add_promises_no_confirmation(app, client, api, login, demo):
    again = _twice(app, client, api, demo, b"full_name,phone\nAmel,0555123456\n")
    page = login("admin").get(f"/admin/trainee-imports/{again}").get_data(as_text=True)
    assert "needs your confirmation below" not in page and 'name="confirm_duplicate_file"' not in page
    assert "None of its rows can be added again: they are already in the cohort." in page
