"""Committing a validated import: the admin's request (with the duplicate-file and possible-duplicate
choices), then the worker's set-based insert under a per-cohort lock, so that every trainee is added once
even when two admins commit the same file at the same moment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    Cohort,
    CohortStatus,
    CorporateTrainee,
    ImportStatus,
    TraineeImport,
    TraineeImportRow,
    User,
)
from core.uow import unit_of_work

from . import rules, store
from .jobs import COMMIT
from .trainees import importable_cohort


def request_commit(session: Session, import_id: int, user: User, *, cohort: Cohort,
                   confirm_duplicate_file: bool = False, include_possible_duplicates: bool = False) -> TraineeImport:
    """Mark a VALIDATED import COMMITTING and hand the insert to a worker (after this transaction).

    A file whose sha256 is already committed (or being committed) into this cohort needs
    `confirm_duplicate_file`; rows flagged `possible_duplicate` are added only with `include_possible_duplicates`.
    """
    with unit_of_work(session):
        _lock_cohort(session, cohort.id)  # two admins committing the same file: the second sees the first
        imp = session.get(TraineeImport, import_id, with_for_update=True)
        if imp is None or imp.cohort_id != cohort.id:
            raise NotFound(N_("No such import."))
        if imp.status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED):
            return imp
        if imp.status != ImportStatus.VALIDATED:
            raise Conflict(N_("Only a validated import can be committed; this one is %(status)s."),
                           params={"status": imp.status.value}, code="import_not_validated")
        importable_cohort(session, cohort)
        if imp.valid_count == 0:
            raise ValidationError(N_("There are no valid rows to add."), code="nothing_to_commit")
        if not confirm_duplicate_file and (earlier := same_file_committed(session, imp)) is not None:
            raise Conflict(N_("The same file (“%(name)s”) was already added to this cohort. Committing it again "
                              "needs confirmation."), params={"name": earlier.original_filename}, code="duplicate_file",
                           details={"import_id": earlier.id, "status": earlier.status.value,
                                    "confirm_with": {"confirm_duplicate_file": True}})
        imp.status, imp.committed_by_id, imp.error_message = ImportStatus.COMMITTING, user.id, None
        imp.duplicate_file_confirmed = confirm_duplicate_file
        imp.include_possible_duplicates = include_possible_duplicates
        audit.record(session, actor_id=user.id, action="import.commit_requested", entity_type="trainee_import",
                     entity_id=imp.id, before={"status": "VALIDATED"}, after={"status": "COMMITTING"},
                     context={"confirm_duplicate_file": confirm_duplicate_file,
                              "include_possible_duplicates": include_possible_duplicates})
        jobs.enqueue(session, COMMIT, imp.id)
        return imp


def same_file_committed(session: Session, imp: TraineeImport) -> TraineeImport | None:
    return session.scalar(select(TraineeImport).where(
        TraineeImport.cohort_id == imp.cohort_id, TraineeImport.sha256 == imp.sha256, TraineeImport.id != imp.id,
        TraineeImport.status.in_((ImportStatus.COMMITTING, ImportStatus.COMMITTED))).order_by(TraineeImport.id))


def commit_trainees(session: Session, import_id: int) -> TraineeImport | None:
    """The trainee target's commit (core.imports.targets): insert the valid rows as trainees, set-based,
    under a per-cohort lock. Idempotent.

    Duplicates against the cohort are checked again here: another import may have been committed
    since validation. The insert, the row marks and the COMMITTED status are one transaction, so a
    worker killed half way leaves nothing behind and the redelivered task does the whole job once.
    """
    with unit_of_work(session):
        cohort_id = session.scalar(select(TraineeImport.cohort_id).where(TraineeImport.id == import_id))
        if cohort_id is None:
            return None
        _lock_cohort(session, cohort_id)
        imp = session.execute(
            select(TraineeImport).where(TraineeImport.id == import_id).execution_options(populate_existing=True)
        ).scalar_one()
        if imp.status != ImportStatus.COMMITTING:
            return imp
        cohort = session.get(Cohort, cohort_id)
        if cohort is None or cohort.status != CohortStatus.ACTIVE:
            imp.status, imp.error_message = ImportStatus.VALIDATED, N_(
                "The cohort is no longer active; nothing was added.")
            return imp
        if not imp.duplicate_file_confirmed and (earlier := same_file_committed(session, imp)) is not None \
                and earlier.status == ImportStatus.COMMITTED:
            imp.status = ImportStatus.VALIDATED
            imp.error_message = (f"The same file (“{earlier.original_filename}”) was added to this cohort meanwhile; "
                                 "nothing was added. Commit again and confirm to add it a second time.")
            return imp

        # Fast path: a plain set-based INSERT. If it violates a unique key, another import (or person)
        # added one of these trainees since validation: undo it, mark those rows as errors, and insert
        # the rest with ON CONFLICT DO NOTHING as a last guard.
        skipped: dict[str, int] = {}
        moved = 0
        try:
            with session.begin_nested():
                inserted = _insert_trainees(session, imp, cohort_id, on_conflict_do_nothing=False)
        except IntegrityError:
            skipped, moved = _mark_cohort_duplicates(session, imp)
            inserted = _insert_trainees(session, imp, cohort_id, on_conflict_do_nothing=True)
        imp.status, imp.inserted_count, imp.committed_at = ImportStatus.COMMITTED, inserted, clock.now()
        if moved:
            reasons = dict(imp.errors_by_reason or {})
            for code, n in skipped.items():
                reasons[code] = reasons.get(code, 0) + n
            imp.errors_by_reason = reasons
            imp.valid_count -= moved
            imp.invalid_count += moved
        audit.record(session, actor_id=imp.committed_by_id, action="import.commit", entity_type="trainee_import",
                     entity_id=imp.id, before={"status": "COMMITTING"},
                     after={"status": "COMMITTED", "inserted": inserted}, context={"cohort_id": cohort_id})
        return imp


def _insert_trainees(session: Session, imp: TraineeImport, cohort_id: int, *, on_conflict_do_nothing: bool) -> int:
    only = None if imp.include_possible_duplicates else ~_possible_duplicate(cohort_id)
    return store.insert_trainees(session, imp.id, cohort_id, only=only, on_conflict_do_nothing=on_conflict_do_nothing)


def _lock_cohort(session: Session, cohort_id: int) -> None:
    """Serialize commits into one cohort (SQLite serializes every writer anyway)."""
    session.execute(select(Cohort.id).where(Cohort.id == cohort_id).with_for_update())


def _possible_duplicate(cohort_id: int) -> Any:
    """A row with no phone, email or code whose name (rules.name_key, in SQL) is already in the cohort.

    Checked when committing, under the cohort lock, so a trainee added since validation counts too."""
    rows, trainees = TraineeImportRow, CorporateTrainee
    return and_(rows.phone_e164.is_(None), rows.email.is_(None), rows.employee_code.is_(None),
                exists().where(trainees.cohort_id == cohort_id,
                               func.lower(func.trim(trainees.full_name)) == func.lower(func.trim(rows.full_name))))


def _mark_cohort_duplicates(session: Session, imp: TraineeImport) -> tuple[dict[str, int], int]:
    """Valid rows that now clash with a trainee already in the cohort become row errors."""
    rows, trainees = TraineeImportRow, CorporateTrainee
    phone_taken = exists().where(trainees.cohort_id == imp.cohort_id, trainees.phone_e164 == rows.phone_e164)
    email_taken = exists().where(trainees.cohort_id == imp.cohort_id, trainees.email == rows.email)
    code_taken = exists().where(trainees.cohort_id == imp.cohort_id, trainees.employee_code == rows.employee_code)
    clashes = session.execute(
        select(rows.row_number, rows.phone_e164, rows.email, rows.employee_code, phone_taken.label("phone_taken"),
               email_taken.label("email_taken"), code_taken.label("code_taken"))
        .where(rows.import_id == imp.id, rows.ok.is_(True),
               or_(and_(rows.phone_e164.is_not(None), phone_taken), and_(rows.email.is_not(None), email_taken),
                   and_(rows.employee_code.is_not(None), code_taken)))
    ).all()
    counts: dict[str, int] = {}
    updates = []
    for c in clashes:
        errors = []
        if c.phone_taken:
            errors.append({"column": "phone", "value": c.phone_e164, "code": "duplicate_phone_in_cohort",
                           "message": rules.REASONS["duplicate_phone_in_cohort"]})
        if c.email_taken:
            errors.append({"column": "email", "value": c.email, "code": "duplicate_email_in_cohort",
                           "message": rules.REASONS["duplicate_email_in_cohort"]})
        if c.code_taken:
            errors.append({"column": "employee_code", "value": c.employee_code,
                           "code": "duplicate_employee_code_in_cohort",
                           "message": rules.REASONS["duplicate_employee_code_in_cohort"]})
        for e in errors:
            counts[e["code"]] = counts.get(e["code"], 0) + 1
        updates.append({"row": c.row_number, "errors": {"errors": errors}})
    if updates:
        table = rows.__table__
        session.connection().execute(
            update(table).where(table.c.import_id == imp.id, table.c.row_number == bindparam("row"))
            .values(ok=False, errors=bindparam("errors")),
            updates,
        )
    return counts, len(updates)
