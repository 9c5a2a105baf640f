"""Register documents over their life: reuse while the data is unchanged, a new build after a change,
FAILED and retried, verified by reference and by bytes, submitted and frozen."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from core.attendance import service as attendance
from core.attendance.commands import LockSession, UnlockSession
from core.errors import Conflict
from core.models import Job, JobStatus, RegisterDocument, User
from core.registers import service, submissions, verification
from core.registers.commands import RequestRegister, SubmitRegister
from core.registers.jobs import BUILD
from core.storage import PrivateStorage
from tests.registers_factories import build, enrolments_by_name, mark, past_session


@pytest.fixture
def storage(tmp_path):
    return PrivateStorage(tmp_path / "private")


@pytest.fixture
def session_with_marks(sql, demo):
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    return session_id, day, ids


def _request(sql, demo, session_id, fmt="pdf"):
    admin = sql.get(User, demo["users"]["admin"])
    return service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id, format=fmt))


def test_an_unchanged_register_is_served_again_instead_of_rebuilt(sql, demo, storage, session_with_marks):
    session_id, _, _ = session_with_marks
    first = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    again, reused = _request(sql, demo, session_id)
    assert reused and again.id == first.id and again.sha256 == first.sha256
    other_format, reused = _request(sql, demo, session_id, fmt="csv")
    assert not reused and other_format.id != first.id


def test_a_mark_makes_the_register_stale_and_the_next_request_builds_anew(sql, demo, storage, session_with_marks):
    session_id, day, ids = session_with_marks
    first = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    mark(sql, session_id, day, {ids["Lina Haddad"]: ("ABSENT", None, None)})
    second, reused = _request(sql, demo, session_id)
    assert not reused and second.id != first.id and second.status.value == "PENDING"
    assert second.reference != first.reference


def test_a_lock_and_a_roster_change_make_it_stale_too(sql, demo, storage, session_with_marks):
    from core.models import Enrolment, EnrolmentStatus

    session_id, _, ids = session_with_marks
    admin = sql.get(User, demo["users"]["admin"])
    first = build(sql, storage, admin.id, kind="session", session_id=session_id, format="csv")
    attendance.lock_session(sql, admin, session_id, LockSession(reason="checked"))
    locked, reused = _request(sql, demo, session_id, "csv")
    assert not reused and locked.id != first.id
    sql.get(Enrolment, ids["Nour Benali"]).status = EnrolmentStatus.WITHDRAWN
    sql.commit()
    sql.delete(locked)
    sql.commit()
    first_again, _ = _request(sql, demo, session_id, "csv")
    roster_changed = build(sql, storage, admin.id, kind="session", session_id=session_id, format="csv")
    assert roster_changed.id == first_again.id  # a fresh PENDING one was built
    assert roster_changed.data_version != first.data_version


def test_a_failing_build_ends_failed_with_a_message_and_a_retry_succeeds(sql, demo, tmp_path, session_with_marks):
    session_id, _, _ = session_with_marks
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("the storage root is a file: every write fails")
    doc, _ = _request(sql, demo, session_id)
    settings = service.BuildSettings(base_url="http://testserver", processes=1)
    with pytest.raises(OSError):
        service.build_document(sql, PrivateStorage(blocked), doc.id, settings)
    # What the worker's job runtime records when the task has given up (no worker runs in this test).
    BUILD.on_fail(sql, doc.id, "The file could not be written (Not a directory); check the storage disk.")
    sql.execute(update(Job).where(Job.kind == "registers.build", Job.entity_id == doc.id)
                .values(status=JobStatus.FAILED))
    sql.commit()
    failed = sql.get(RegisterDocument, doc.id)
    sql.refresh(failed)
    assert failed.status.value == "FAILED" and "could not be written" in failed.error_message
    assert not list(tmp_path.glob("**/*.part"))  # nothing half-written left behind
    admin = sql.get(User, demo["users"]["admin"])
    retried = service.retry_document(sql, admin, doc.id)
    assert retried.status.value == "PENDING" and retried.error_message is None
    built = service.build_document(sql, PrivateStorage(tmp_path / "good"), doc.id, settings)
    assert built.status.value == "READY" and built.reference == doc.reference
    with pytest.raises(Conflict):
        service.retry_document(sql, admin, doc.id)  # only FAILED documents are retried


def test_a_long_register_is_rendered_in_page_runs_on_child_processes_and_joined_tagged(sql, demo, storage):
    from tests.registers_factories import add_learners

    cohort = demo["public_cohort_id"]
    add_learners(sql, cohort, demo["institution_id"], [f"Trainee {i:03d}" for i in range(60)])
    session_id, _ = past_session(sql, cohort)
    doc = build(sql, storage, demo["users"]["admin"], processes=2, pages_per_run=1, kind="session",
                session_id=session_id, format="pdf")
    assert doc.status.value == "READY", doc.error_message
    with storage.open(doc.storage_key) as f:
        reader = PdfReader(io.BytesIO(f.read()))
    assert len(reader.pages) == doc.page_count == 4  # 72 trainees: 20 + 20 + 20 + 12 (and the tail)
    texts = [page.extract_text() for page in reader.pages]
    assert [f"Page {n} of 4" in t for n, t in enumerate(texts, 1)] == [True] * 4
    tree = reader.trailer["/Root"]["/StructTreeRoot"]
    document = tree["/K"][0].get_object()
    assert document["/S"] == "/Document" and len(document["/K"]) >= 4  # the runs' elements under one root
    keys = [int(p["/StructParents"]) for p in reader.pages]
    assert len(set(keys)) == 4  # renumbered: no two pages share marked-content parents
    parents = tree["/ParentTree"]["/Nums"]
    assert set(keys) <= {int(parents[i]) for i in range(0, len(parents), 2)}


DAEMONIC_RENDER = """
import multiprocessing, sys

def render(path):
    from core.registers import render_processes
    page = '<section style="break-after: page">Run {}</section>'
    joined = render_processes.render_runs([(lambda n=n: page.format(n), 1) for n in range(3)], processes=2)
    assert render_processes.CHILD_PEAK_RSS_KB[0] > 0, "rendered here, not on children"
    open(path, "wb").write(joined)

if __name__ == "__main__":
    worker = multiprocessing.get_context("fork").Process(target=render, args=(sys.argv[1],), daemon=True)
    worker.start()
    worker.join(120)
    sys.exit(worker.exitcode)
"""


def test_page_runs_render_on_child_processes_even_from_a_daemonic_process(tmp_path):
    """A Celery prefork pool process is daemonic: multiprocessing refuses it children, subprocesses it allows."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "daemonic_render.py"
    script.write_text(DAEMONIC_RENDER)
    out = tmp_path / "joined.pdf"
    root = str(Path(__file__).resolve().parents[2])  # this checkout's code, whatever the virtualenv points at
    done = subprocess.run([sys.executable, str(script), str(out)], cwd=root, env={**os.environ, "PYTHONPATH": root},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    reader = PdfReader(str(out))
    assert [page.extract_text().strip() for page in reader.pages] == ["Run 0", "Run 1", "Run 2"]
    assert "/StructTreeRoot" in reader.trailer["/Root"]


# --- verification ----------------------------------------------------------------------------------------------

def test_a_genuine_pdf_verifies_and_one_changed_byte_does_not(sql, demo, storage, session_with_marks):
    session_id, _, _ = session_with_marks
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    with storage.open(doc.storage_key) as f:
        genuine = f.read()
    sha, found = verification.by_content(sql, io.BytesIO(genuine), 10**8)
    assert found is not None and found.reference == doc.reference and sha == doc.sha256
    tampered = bytearray(genuine)
    tampered[len(tampered) // 2] ^= 0x01
    _, found = verification.by_content(sql, io.BytesIO(bytes(tampered)), 10**8)
    assert found is None
    by_ref = verification.by_reference(sql, doc.reference.lower())
    assert by_ref is not None and by_ref.institution == "Demo Training Institute" and by_ref.superseded_at is None


def test_a_newer_build_from_other_data_supersedes_the_older(sql, demo, storage, session_with_marks):
    session_id, day, ids = session_with_marks
    old = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    mark(sql, session_id, day, {ids["Lina Haddad"]: ("ABSENT", None, None)})
    new = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    found = verification.by_reference(sql, old.reference)
    assert found.superseded_by == new.reference and found.superseded_at is not None
    assert verification.by_reference(sql, new.reference).superseded_at is None


# --- submissions -----------------------------------------------------------------------------------------------

def test_a_register_of_an_unlocked_session_cannot_be_submitted(sql, demo, storage, session_with_marks):
    session_id, _, _ = session_with_marks
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    admin = sql.get(User, demo["users"]["admin"])
    with pytest.raises(Conflict) as refused:
        submissions.submit(sql, admin, SubmitRegister(register_document_id=doc.id))
    assert refused.value.code == "sessions_not_locked"


def test_a_submission_is_frozen_after_a_later_mark_and_flags_an_unlock(sql, demo, storage, session_with_marks):
    session_id, day, ids = session_with_marks
    admin = sql.get(User, demo["users"]["admin"])
    attendance.lock_session(sql, admin, session_id, LockSession(reason="end of day"))
    doc = build(sql, storage, admin.id, kind="session", session_id=session_id, format="pdf")
    submitted = submissions.submit(sql, admin, SubmitRegister(register_document_id=doc.id))
    assert submitted.sha256 == doc.sha256 and submitted.amended_since is None
    with pytest.raises(Conflict):
        submissions.submit(sql, admin, SubmitRegister(register_document_id=doc.id))
    # An admin reopens the session and changes a mark: the submitted document and file stay as they were.
    attendance.unlock_session(sql, admin, session_id, UnlockSession(reason="late correction"))
    mark(sql, session_id, day, {ids["Lina Haddad"]: ("ABSENT", None, None)})
    newer, reused = _request(sql, demo, session_id)
    assert not reused and newer.id != doc.id
    sql.expire_all()
    frozen = sql.get(RegisterDocument, doc.id)
    assert frozen.sha256 == doc.sha256 and frozen.status.value == "READY"
    with storage.open(frozen.storage_key) as f:
        import hashlib

        assert hashlib.sha256(f.read()).hexdigest() == submitted.sha256
    listed, total = submissions.list_submissions(sql, admin, 1, 50)
    assert total == 1 and listed[0].sha256 == doc.sha256 and listed[0].amended_since is not None
    assert listed[0].amended_since > submitted.submitted_at - dt.timedelta(seconds=1)
    assert sql.scalar(select(RegisterDocument.id).where(RegisterDocument.id == doc.id)) == doc.id


def _runs(texts: list[str], built: list[int], fail_at: int | None = None) -> list:
    page = '<section style="break-after: page">{}</section>'

    def run(index: int, text: str):
        def html() -> str:
            built.append(index)
            if index == fail_at:
                raise RuntimeError("worker killed")  # the build stops here, as a killed worker's would
            return page.format(text)
        return html, 1
    return [run(i, text) for i, text in enumerate(texts)]


def _kept(folder) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("run-*.pdf")}


def test_a_stopped_build_renders_again_only_the_runs_it_had_not_finished(tmp_path):
    from core.registers import render_processes

    keep, built = tmp_path / "document-1", []
    with pytest.raises(RuntimeError):
        render_processes.render_runs(_runs(["Run A", "Run B", "Run C"], built, fail_at=2), processes=1, keep=keep)
    before = _kept(keep)
    assert len(before) == 2  # runs A and B were rendered and kept

    joined = render_processes.render_runs(_runs(["Run A", "Run B", "Run C"], built), processes=1, keep=keep)
    after = _kept(keep)
    assert {name: after[name] for name in before} == before  # A and B reused as they were, not rendered again
    assert len(after) == 3
    assert [page.extract_text().strip() for page in PdfReader(io.BytesIO(joined)).pages] == ["Run A", "Run B",
                                                                                             "Run C"]


def test_kept_runs_are_reused_by_the_child_processes_only_while_their_html_is_the_same(tmp_path):
    from core.registers import render_processes

    keep, built = tmp_path / "document-2", []
    render_processes.render_runs(_runs(["One", "Two", "Three"], built), processes=2, keep=keep)
    first = _kept(keep)
    joined = render_processes.render_runs(_runs(["One", "Two (changed)", "Three"], built), processes=2, keep=keep)
    second = _kept(keep)
    assert set(first) <= set(second) and len(second) == 4  # the changed run rendered anew, beside the old one
    assert all(second[name] == first[name] for name in first)
    assert [page.extract_text().strip() for page in PdfReader(io.BytesIO(joined)).pages] == [
        "One", "Two (changed)", "Three"]


def test_a_redelivered_build_prints_the_time_its_build_began_and_leaves_no_runs_behind(sql, demo, storage,
                                                                                      session_with_marks, tmp_path):
    doc, _ = _request(sql, demo, session_with_marks[0])
    claimed = service.claim_build(sql, doc.id)
    began = claimed.started_at
    assert service.claim_build(sql, doc.id).started_at == began  # redelivered: still BUILDING, same start
    settings = service.BuildSettings(base_url="http://testserver", processes=1, runs_root=str(tmp_path / "runs"))
    built = service.build_document(sql, storage, doc.id, settings)
    assert built.status.value == "READY" and built.started_at == began
    assert not (tmp_path / "runs" / f"document-{doc.id}").exists()
def test_a_submission_records_the_audit_chain_head_and_shows_when_the_trail_changed(app, sql, demo, storage,
                                                                                    session_with_marks, tmp_path):
    from sqlalchemy import text

    from core.audit_trail import nightly, verify
    from core.mail import MailSettings
    from core.models import AuditChainHead, AuditEvent

    session_id, _day, _ids = session_with_marks
    admin = sql.get(User, demo["users"]["admin"])
    attendance.lock_session(sql, admin, session_id, LockSession(reason="end of day"))
    doc = build(sql, storage, admin.id, kind="session", session_id=session_id, format="pdf")
    sql.rollback()
    head = sql.get(AuditChainHead, demo["institution_id"])
    before = (head.seq, head.row_hash.hex())
    submitted = submissions.submit(sql, admin, SubmitRegister(register_document_id=doc.id))
    assert (submitted.trail_seq, submitted.trail_hash) == before and before[0] > 0
    assert submitted.trail_holds is True and submitted.trail_changed is False
    assert verify.verify_submission(sql, submitted.id).ok
    # Someone rewrites an audit row from before the submission behind the application (the lock's); the nightly
    # check finds it and the submission shows its trail changed.
    first = sql.scalar(select(AuditEvent.id).where(AuditEvent.institution_id == demo["institution_id"],
                                                   AuditEvent.action == "session.lock"))
    sql.execute(text("UPDATE audit_events SET entity_id = entity_id + 1000 WHERE id = :id"), {"id": first})
    sql.commit()
    named = verify.verify_submission(sql, submitted.id)  # the chain up to the head the submission recorded
    assert named is not None and named.broken is not None and named.broken.row_id == first
    cli = app.test_cli_runner().invoke(args=["audit", "verify", "--submission", str(submitted.id)])
    assert cli.exit_code == 1 and f"BROKEN at row id {first} " in cli.output
    report = nightly.check_trail(sql, MailSettings(backend="file", file_dir=str(tmp_path / "mail")))
    assert report.broken == [demo["institution_id"]] and report.mailed
    listed, _ = submissions.list_submissions(sql, admin, 1, 50)
    assert listed[0].trail_seq == before[0] and listed[0].trail_holds is False and listed[0].trail_changed
