"""Imports know a trainee by more than phone and email: employee codes, the same file twice, name-only rows."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict
from core.imports import commit, service
from core.models import Cohort, CorporateTrainee, ImportStatus, TraineeImport, TraineeImportRow, User
from tests.integration.test_imports import commit_at_once


@pytest.fixture
def ctx(app, db_session, demo):
    return {"app": app, "s": db_session, "cohort": db_session.get(Cohort, demo["corporate_cohort_id"]),
            "admin": db_session.get(User, demo["users"]["admin"]), "storage": app.extensions["storage"]}


def validated(ctx, data: str) -> TraineeImport:
    imp = service.create_import(ctx["s"], ctx["storage"], cohort=ctx["cohort"], uploader=ctx["admin"],
                                stream=io.BytesIO(data.encode()), filename="t.csv", max_bytes=10_000_000)
    return service.validate_import(ctx["s"], ctx["storage"], imp.id)


def committed(ctx, imp: TraineeImport, **choices: bool) -> TraineeImport:
    commit.request_commit(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"], **choices)
    return commit.commit_trainees(ctx["s"], imp.id)


def rows(ctx, imp: TraineeImport) -> list[TraineeImportRow]:
    return list(ctx["s"].scalars(select(TraineeImportRow).where(TraineeImportRow.import_id == imp.id)
                                 .order_by(TraineeImportRow.row_number)))


def count(ctx) -> int:
    return ctx["s"].scalar(select(func.count()).where(CorporateTrainee.cohort_id == ctx["cohort"].id))


def test_an_employee_code_twice_in_the_file_is_a_row_error_naming_the_first_row(ctx):
    imp = validated(ctx, "full_name,employee_code\nAmel,E7\nKarim,E7\n")
    second = rows(ctx, imp)[1]
    assert not second.ok and second.errors["errors"][0]["code"] == "duplicate_employee_code_in_file"
    assert second.errors["errors"][0]["message"] == "Duplicate employee code in this file (first on row 1)."


def test_an_employee_code_already_in_the_cohort_is_a_row_error(ctx):
    committed(ctx, validated(ctx, "full_name,employee_code\nAmel,E8\n"))
    imp = validated(ctx, "full_name,employee_code\nSomeone Else,E8\n")
    assert imp.errors_by_reason == {"duplicate_employee_code_in_cohort": 1}


def test_the_database_refuses_a_second_trainee_with_the_same_code_in_a_cohort(ctx):
    ctx["s"].execute(insert(CorporateTrainee), [{"cohort_id": ctx["cohort"].id, "full_name": "A",
                                                 "employee_code": "E9", "active": True}])
    with pytest.raises(IntegrityError):
        ctx["s"].execute(insert(CorporateTrainee), [{"cohort_id": ctx["cohort"].id, "full_name": "B",
                                                     "employee_code": "E9", "active": True}])
    ctx["s"].rollback()


def test_a_code_taken_between_validation_and_commit_is_refused_at_commit(ctx):
    imp = validated(ctx, "full_name,employee_code\nAmel,E10\nKarim,E11\n")
    ctx["s"].execute(insert(CorporateTrainee), [{"cohort_id": ctx["cohort"].id, "full_name": "Early",
                                                 "employee_code": "E10", "active": True}])
    ctx["s"].commit()
    done = committed(ctx, imp)
    assert (done.inserted_count, done.errors_by_reason) == (1, {"duplicate_employee_code_in_cohort": 1})


def test_committing_the_same_file_again_needs_confirmation(ctx):
    data = "full_name,phone\nAmel,0555123456\nNadia Name Only,\n"
    committed(ctx, validated(ctx, data))
    again = validated(ctx, data)  # the name-only row is still valid (a possible duplicate)
    with pytest.raises(Conflict) as refused:
        commit.request_commit(ctx["s"], again.id, ctx["admin"], cohort=ctx["cohort"])
    assert refused.value.code == "duplicate_file"
    ctx["s"].rollback()


def test_the_api_answers_409_then_accepts_the_confirmation(app, client, api, demo, published):
    h = api("admin")
    data = b"full_name,phone\nAmel,0555123456\nNadia Name Only,\n"
    ids = []
    for _ in range(2):
        r = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports", headers=h,
                        data={"file": (io.BytesIO(data), "t.csv")}, content_type="multipart/form-data")
        ids.append(r.json["id"])
    from web.extensions import db

    with app.app_context():
        service.validate_import(db.session, app.extensions["storage"], ids[0])
        service.validate_import(db.session, app.extensions["storage"], ids[1])
        db.session.remove()
    assert client.post(f"/api/trainee-imports/{ids[0]}/commit", headers=h).status_code == 202
    refused = client.post(f"/api/trainee-imports/{ids[1]}/commit", headers=h)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "duplicate_file"
    assert refused.json["error"]["details"]["confirm_with"] == {"confirm_duplicate_file": True}
    accepted = client.post(f"/api/trainee-imports/{ids[1]}/commit", headers=h, json={"confirm_duplicate_file": True})
    assert accepted.status_code == 202 and accepted.json["status"] == "COMMITTING"


def test_a_name_only_row_matching_a_trainee_is_a_possible_duplicate_left_out_unless_included(ctx):
    committed(ctx, validated(ctx, "full_name,phone\nNadia Kaci,0555123456\n"))
    imp = validated(ctx, "full_name,phone\n nadia kaci ,\nSomeone New,\n")
    flagged = rows(ctx, imp)[0]
    assert flagged.ok and flagged.errors["warnings"][0]["code"] == "possible_duplicate"
    assert imp.possible_duplicate_count == 1 and imp.valid_count == 2
    before = count(ctx)
    assert committed(ctx, imp).inserted_count == 1 and count(ctx) == before + 1

    again = validated(ctx, "full_name\nNadia Kaci\nAnother New\n")
    assert committed(ctx, again, include_possible_duplicates=True).inserted_count == 2


def test_two_commits_of_the_same_file_at_once_add_each_trainee_once(ctx):
    """Both admins confirmed the duplicate file: phone, email and code rows clash on keys; name-only rows
    are possible duplicates of the first commit's, so they are left out of the second."""
    data = "full_name,phone,employee_code\n" + "".join(
        f"T{i},05550{i:05d},\n" if i % 3 == 0 else f"T{i},,C{i}\n" if i % 3 == 1 else f"T{i},,\n" for i in range(300))
    a, b = validated(ctx, data), validated(ctx, data)
    for imp in (a, b):
        commit.request_commit(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"], confirm_duplicate_file=True)
    before = count(ctx)
    assert commit_at_once(ctx["app"], [a.id, b.id]) == [] and count(ctx) == before + 300
    ctx["s"].expire_all()
    assert {ctx["s"].get(TraineeImport, i).status for i in (a.id, b.id)} == {ImportStatus.COMMITTED}


def test_the_status_page_shows_reasons_as_sentences(app, login, demo, ctx):
    imp = validated(ctx, "full_name,email\nAmel,a@example.com\nKarim,a@example.com\n")
    page = login("admin").get(f"/admin/trainee-imports/{imp.id}").get_data(as_text=True)
    assert "Duplicate email in this file. 1 row." in page
    assert "Duplicate email in this file (first on row 1)." in page and "duplicate_email_in_file" not in page
