"""The import service on the real database: validate, progress, failures, commit, duplicates, cancel."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select, text, update

from core.errors import Conflict
from core.imports import commit, service
from core.models import Cohort, CorporateTrainee, ImportStatus, TraineeImport, TraineeImportRow, User

GOOD = (
    "full_name,phone,email,job_title,employee_code,department\n"
    "Amel Bouzid,0555 12 34 56,Amel@Example.com,Driver,E1,Stores\n"
    "Karim Mansouri,0770123456,,Picker,E2,Stores\n"
    ",0661000001,,,,\n"                                # no name
    "Lina Haddad,021 12 34 56,,,,\n"                    # landline
    "Walid Rahmani,+213555123456,,,,\n"                 # same phone as row 1
    "Farid Touati,0660000000,,,,\n"                     # already in the demo cohort
)


@pytest.fixture
def ctx(app, db_session, demo):
    cohort = db_session.get(Cohort, demo["corporate_cohort_id"])
    admin = db_session.get(User, demo["users"]["admin"])
    return {"app": app, "s": db_session, "cohort": cohort, "admin": admin, "storage": app.extensions["storage"]}


def upload(ctx, data: bytes | str, name: str = "trainees.csv") -> TraineeImport:
    raw = data.encode() if isinstance(data, str) else data
    return service.create_import(ctx["s"], ctx["storage"], cohort=ctx["cohort"], uploader=ctx["admin"],
                                 stream=io.BytesIO(raw), filename=name, max_bytes=10 * 1024 * 1024)


def validated(ctx, data, **kw) -> TraineeImport:
    imp = upload(ctx, data)
    return service.validate_import(ctx["s"], ctx["storage"], imp.id, **kw)


def trainee_count(ctx) -> int:
    return ctx["s"].scalar(select(func.count()).select_from(CorporateTrainee)
                           .where(CorporateTrainee.cohort_id == ctx["cohort"].id))





def test_upload_records_file_metadata_and_status(ctx):
    imp = upload(ctx, GOOD, name="C:\\Users\\hr\\trainees.csv")
    assert (imp.status, imp.original_filename, imp.size_bytes) == (ImportStatus.UPLOADED, "trainees.csv", len(GOOD))
    assert len(imp.sha256) == 64 and ctx["storage"].path(imp.storage_key).read_bytes() == GOOD.encode()


def test_validation_counts_valid_rows_and_errors_by_reason(ctx):
    imp = validated(ctx, GOOD)
    assert imp.status == ImportStatus.VALIDATED
    assert (imp.valid_count, imp.invalid_count, imp.rows_total, imp.rows_done) == (2, 4, 6, 6)
    assert imp.errors_by_reason == {"full_name_missing": 1, "phone_not_mobile": 1, "duplicate_phone_in_file": 1,
                                    "duplicate_phone_in_cohort": 1}


def test_row_results_are_stored_for_every_row(ctx):
    imp = validated(ctx, GOOD)
    rows = ctx["s"].scalars(select(TraineeImportRow).where(TraineeImportRow.import_id == imp.id)
                            .order_by(TraineeImportRow.row_number)).all()
    assert [r.ok for r in rows] == [True, True, False, False, False, False]
    assert (rows[0].phone_e164, rows[0].email) == ("+213555123456", "amel@example.com")
    assert rows[4].errors["errors"][0]["message"] == "Duplicate phone number in this file (first on row 1)."


def test_preview_lists_errors_first(ctx):
    imp = validated(ctx, GOOD)
    assert [r.row_number for r in service.preview_rows(ctx["s"], imp.id, limit=5)] == [3, 4, 5, 6, 1]


def test_progress_is_committed_while_validation_runs(ctx, monkeypatch):
    seen: list[int] = []
    original = service._commit_progress
    engine = ctx["s"].get_bind()

    def watching(connection, import_id, *args):
        ok = original(connection, import_id, *args)
        with engine.connect() as other:  # another connection sees the batches committed before this one
            seen.append(other.scalar(text("SELECT rows_done FROM trainee_imports WHERE id = :i"), {"i": import_id}))
        return ok

    monkeypatch.setattr(service, "_commit_progress", watching)
    data = "full_name,phone\n" + "".join(f"Trainee {i},05{i:08d}\n" for i in range(10))
    assert validated(ctx, data, progress_every=3).rows_done == 10
    assert seen == [0, 3, 6, 9]


def test_validation_stops_when_the_import_is_cancelled_meanwhile(ctx, monkeypatch):
    original = service._commit_progress
    engine = ctx["s"].get_bind()
    imp = upload(ctx, "full_name\n" + "".join(f"T{i}\n" for i in range(10)))

    calls: list[int] = []

    def cancelled_after_first(connection, import_id, *args):
        calls.append(1)
        if len(calls) == 2:  # cancelled while the second batch was being checked
            with engine.begin() as other:
                other.execute(text("UPDATE trainee_imports SET status = 'CANCELLED' WHERE id = :i"),
                              {"i": import_id})
        return original(connection, import_id, *args)

    monkeypatch.setattr(service, "_commit_progress", cancelled_after_first)
    done = service.validate_import(ctx["s"], ctx["storage"], imp.id, progress_every=3)
    assert done.status == ImportStatus.CANCELLED and done.rows_done == 3


def _dies_on_batch(monkeypatch, n: int) -> list[int]:
    """As a worker killed while writing its n-th batch (that batch rolls back); returns the rows_done seen."""
    original = service._commit_progress
    seen: list[int] = []
    calls = iter(range(1, 1_000_000))

    def progress(connection, import_id, rows_done, *args):
        seen.append(rows_done)
        if next(calls) == n:
            raise RuntimeError("worker killed")
        return original(connection, import_id, rows_done, *args)

    monkeypatch.setattr(service, "_commit_progress", progress)
    return seen


def _row_results(ctx, import_id: int) -> list[tuple]:
    return ctx["s"].execute(select(TraineeImportRow.row_number, TraineeImportRow.ok, TraineeImportRow.phone_e164,
                                   TraineeImportRow.errors).where(TraineeImportRow.import_id == import_id)
                            .order_by(TraineeImportRow.row_number)).all()


def test_a_validation_stopped_half_way_resumes_after_its_last_committed_batch(ctx, monkeypatch):
    seen = _dies_on_batch(monkeypatch, 2)
    imp = upload(ctx, "full_name,employee_code\n" + "".join(f"Trainee {i},E{i}\n" for i in range(10)))
    with pytest.raises(RuntimeError):
        service.validate_import(ctx["s"], ctx["storage"], imp.id, progress_every=3)
    ctx["s"].expire_all()
    stopped = ctx["s"].get(TraineeImport, imp.id)
    assert (stopped.status, stopped.rows_done) == (ImportStatus.VALIDATING, 3)  # the first batch, committed
    assert [r[0] for r in _row_results(ctx, imp.id)] == [1, 2, 3]
    seen.clear()
    again = service.validate_import(ctx["s"], ctx["storage"], imp.id, progress_every=3)
    assert (again.status, again.valid_count, again.invalid_count) == (ImportStatus.VALIDATED, 10, 0)
    assert seen == [6, 9, 10]  # rows 4 to 10 checked; rows 1 to 3 were not checked again
    assert [r[0] for r in _row_results(ctx, imp.id)] == list(range(1, 11))


def test_a_resumed_validation_judges_every_row_as_one_uninterrupted_run(ctx, monkeypatch):
    # Repeats across the stop (a phone, an email, an employee code first seen before it), a blank line, a bad
    # row before it: the resumed run ends with the same rows, messages and tallies as a run never stopped.
    data = ("full_name,phone,email,job_title,employee_code,department\n"
            "Amel Bouzid,0555 12 34 56,amel@example.com,,E1,\n"
            ",0661000001,,,,\n"
            "\n"
            "Karim Mansouri,0770123456,k@example.com,,E2,\n"
            "Walid Rahmani,+213555123456,,,,\n"
            "Lina Haddad,0661000002,AMEL@example.com,,,\n"
            "Nadia Cherif,0661000003,,,E2,\n"
            "Sara Amrani,0661000001,,,,\n")
    whole = validated(ctx, data, progress_every=2)
    expected = (whole.valid_count, whole.invalid_count, dict(whole.errors_by_reason), _row_results(ctx, whole.id))
    _dies_on_batch(monkeypatch, 3)
    imp = upload(ctx, data)
    with pytest.raises(RuntimeError):
        service.validate_import(ctx["s"], ctx["storage"], imp.id, progress_every=2)
    monkeypatch.undo()
    ctx["s"].expire_all()
    assert ctx["s"].get(TraineeImport, imp.id).rows_done == 4
    again = service.validate_import(ctx["s"], ctx["storage"], imp.id, progress_every=2)
    assert (again.valid_count, again.invalid_count, dict(again.errors_by_reason), _row_results(ctx, imp.id)) \
        == expected
    assert expected[1] == 5 and expected[2]["duplicate_phone_in_file"] == 2  # rows 2, 5, 6, 7 and 8


def test_deleting_an_import_deletes_its_row_results(ctx):
    # No foreign key on the rows (its per-row check halved COPY speed): a trigger does what its cascade did.
    kept, gone = validated(ctx, GOOD).id, validated(ctx, GOOD).id
    ctx["s"].execute(text("DELETE FROM trainee_imports WHERE id = :i"), {"i": gone})
    ctx["s"].commit()
    counts = dict(ctx["s"].execute(select(TraineeImportRow.import_id, func.count())
                                   .where(TraineeImportRow.import_id.in_([kept, gone]))
                                   .group_by(TraineeImportRow.import_id)).all())
    assert counts == {kept: 6}


def test_values_with_tabs_backslashes_and_newlines_survive_the_copy(ctx):
    imp = validated(ctx, 'full_name,department\n"Amel\tB\\ouzid","Stores\r\nNight"\n')
    row = ctx["s"].scalar(select(TraineeImportRow).where(TraineeImportRow.import_id == imp.id))
    assert (row.full_name, row.department) == ("Amel\tB\\ouzid", "Stores\r\nNight")


def test_every_column_survives_the_copy_with_blanks_as_nulls(ctx):
    # Rows with all six columns take the inline path (values written as they are unless a batch needs escaping).
    imp = validated(ctx, "full_name,phone,email,job_title,employee_code,department\n"
                         '"Amel\tB\\ouzid",0555 12 34 56,amel@acme.dz,"Night\r\nshift",E1,\\N\n'
                         "Karim,,,,E2,\n"
                         "Hélène,0661000001,,Chef d'équipe,,Dépôt\n"
                         ',0555123456,"é@x",,,\n')
    rows = ctx["s"].scalars(select(TraineeImportRow).where(TraineeImportRow.import_id == imp.id)
                            .order_by(TraineeImportRow.row_number)).all()
    assert [(r.full_name, r.phone_e164, r.email, r.job_title, r.employee_code, r.department, r.errors)
            for r in rows[:3]] == [
        ("Amel\tB\\ouzid", "+213555123456", "amel@acme.dz", "Night\r\nshift", "E1", "\\N", None),
        ("Karim", None, None, None, "E2", None, None),
        ("Hélène", "+213661000001", None, "Chef d'équipe", None, "Dépôt", None)]
    assert [e["code"] for e in rows[3].errors["errors"]] == ["full_name_missing", "duplicate_phone_in_file",
                                                             "email_invalid"]
    assert rows[3].errors["errors"][2]["value"] == "é@x"


def test_redelivered_validation_starts_again_and_ends_the_same(ctx):
    imp = validated(ctx, GOOD)
    first = (imp.valid_count, imp.invalid_count, dict(imp.errors_by_reason))
    # As if the worker died half way: status still VALIDATING, some row results already written.
    ctx["s"].execute(update(TraineeImport).where(TraineeImport.id == imp.id)
                     .values(status=ImportStatus.VALIDATING, rows_done=3))
    ctx["s"].commit()
    again = service.validate_import(ctx["s"], ctx["storage"], imp.id)
    assert (again.status, again.valid_count, again.invalid_count, again.errors_by_reason) == (
        ImportStatus.VALIDATED, *first)
    assert ctx["s"].scalar(select(func.count()).where(TraineeImportRow.import_id == imp.id)) == 6


def test_validating_a_finished_import_again_changes_nothing(ctx):
    imp = validated(ctx, GOOD)
    assert service.validate_import(ctx["s"], ctx["storage"], imp.id).status == ImportStatus.VALIDATED


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"full_name,phone,email\r\n", "The file has a header row but no trainee rows."),
    (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "ZIP or Excel (.xlsx) file, not a CSV"),
    (b"\x00\x01\x02\x03\x04\x05" * 100, "not a text CSV file"),
    (b"name,phone\nAmel,0555123456\n", "no full_name column"),
    ("full_name\nمحمد بن علي\nعلي\n".encode("cp1256"), "not in UTF-8"),
])
def test_unusable_files_fail_with_one_clear_message(ctx, data, message):
    imp = validated(ctx, data)
    assert imp.status == ImportStatus.FAILED and message in imp.error_message
    assert ctx["s"].scalar(select(func.count()).where(TraineeImportRow.import_id == imp.id)) == 0


def test_windows_1252_file_is_imported_with_correct_accents(ctx):
    imp = validated(ctx, "full_name;job_title\r\nRené Lefèvre;Opérateur\r\n".encode("cp1252"))
    row = ctx["s"].scalar(select(TraineeImportRow).where(TraineeImportRow.import_id == imp.id))
    assert imp.status == ImportStatus.VALIDATED and (row.full_name, row.job_title) == ("René Lefèvre", "Opérateur")


def _commit(ctx, imp: TraineeImport) -> TraineeImport:
    commit.request_commit(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"])
    return commit.commit_trainees(ctx["s"], imp.id)


def test_commit_adds_the_valid_rows_as_trainees(ctx):
    before = trainee_count(ctx)
    imp = _commit(ctx, validated(ctx, GOOD))
    assert (imp.status, imp.inserted_count) == (ImportStatus.COMMITTED, 2)
    assert trainee_count(ctx) == before + 2
    amel = ctx["s"].scalar(select(CorporateTrainee).where(CorporateTrainee.email == "amel@example.com"))
    assert (amel.phone_e164, amel.import_id, amel.department, amel.active) == ("+213555123456", imp.id, "Stores", True)


def test_repeated_commit_inserts_nothing_twice(ctx):
    imp = _commit(ctx, validated(ctx, GOOD))
    count = trainee_count(ctx)
    ctx["s"].execute(update(TraineeImport).where(TraineeImport.id == imp.id).values(status=ImportStatus.COMMITTING))
    ctx["s"].commit()
    commit.commit_trainees(ctx["s"], imp.id)  # a redelivered task finding the job not marked done
    commit.commit_trainees(ctx["s"], imp.id)
    assert trainee_count(ctx) == count


def test_commit_rechecks_duplicates_against_the_cohort(ctx):
    first = validated(ctx, "full_name,phone\nA,0555111111\n")
    second = validated(ctx, "full_name,phone,email\nB,0555111111,b@example.com\nC,0555222222,\n")
    _commit(ctx, first)
    done = _commit(ctx, second)
    assert (done.inserted_count, done.valid_count, done.invalid_count) == (1, 1, 1)
    assert done.errors_by_reason == {"duplicate_phone_in_cohort": 1}
    row = ctx["s"].scalar(select(TraineeImportRow).where(TraineeImportRow.import_id == second.id,
                                                         TraineeImportRow.row_number == 1))
    assert not row.ok and row.errors["errors"][0]["code"] == "duplicate_phone_in_cohort"


def commit_at_once(app, import_ids: list[int]) -> list[BaseException]:
    """Run the commit task's service for each import in its own thread, all at once; the errors raised."""
    errors: list[BaseException] = []

    def run(import_id: int) -> None:
        from web.extensions import db

        with app.app_context():
            try:
                commit.commit_trainees(db.session, import_id)
            except BaseException as exc:  # pragma: no cover - reported by the caller
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in import_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_two_imports_committed_at_once_never_duplicate(ctx):
    app = ctx["app"]
    a = validated(ctx, "full_name,phone\n" + "".join(f"A{i},05550{i:05d}\n" for i in range(300)))
    b = validated(ctx, "full_name,phone\n" + "".join(f"B{i},05550{i:05d}\n" for i in range(150, 450)))
    for imp in (a, b):
        commit.request_commit(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"])
    before = trainee_count(ctx)
    assert commit_at_once(app, [a.id, b.id]) == []
    assert trainee_count(ctx) == before + 450
    ctx["s"].expire_all()
    assert sum(ctx["s"].get(TraineeImport, i).inserted_count for i in (a.id, b.id)) == 450


def test_cancel_keeps_the_file_and_blocks_commit(ctx):
    imp = validated(ctx, GOOD)
    service.cancel_import(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"])
    assert ctx["s"].get(TraineeImport, imp.id).status == ImportStatus.CANCELLED
    assert ctx["storage"].path(imp.storage_key).exists()
    with pytest.raises(Conflict):
        commit.request_commit(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"])


def test_a_committed_import_cannot_be_cancelled(ctx):
    imp = _commit(ctx, validated(ctx, GOOD))
    with pytest.raises(Conflict):
        service.cancel_import(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"])


def test_validation_of_a_cancelled_import_does_nothing(ctx):
    imp = upload(ctx, GOOD)
    service.cancel_import(ctx["s"], imp.id, ctx["admin"], cohort=ctx["cohort"])
    assert service.validate_import(ctx["s"], ctx["storage"], imp.id).status == ImportStatus.CANCELLED


def test_error_report_lists_each_error_with_formulas_neutralized(ctx):
    imp = validated(ctx, "full_name,phone,email\n=HYPERLINK(\"x\"),+33612345678,@bad\n")
    lines = list(service.error_report_lines(ctx["s"], imp.id))
    assert lines[0] == ["row", "column", "value", "reason", "message"]
    assert [line[:4] for line in lines[1:]] == [["1", "phone", "'+33612345678", "phone_not_dz"],
                                                ["1", "email", "'@bad", "email_invalid"]]


@pytest.mark.postgres
def test_a_second_delivery_leaves_a_running_validation_alone(ctx):
    imp = upload(ctx, GOOD)
    with ctx["s"].get_bind().connect() as other_worker:
        other_worker.execute(text("SELECT pg_advisory_lock(:space, :id)"),
                             {"space": service.VALIDATION_LOCK_SPACE, "id": imp.id})
        assert service.validate_import(ctx["s"], ctx["storage"], imp.id).status == ImportStatus.UPLOADED
        other_worker.execute(text("SELECT pg_advisory_unlock(:space, :id)"),
                             {"space": service.VALIDATION_LOCK_SPACE, "id": imp.id})
    assert service.validate_import(ctx["s"], ctx["storage"], imp.id).status == ImportStatus.VALIDATED
