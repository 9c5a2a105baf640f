"""The learner target of the import pipeline: an institution's learners from CSV, optionally enrolled into one
public cohort: one import target beside the trainees' (core.imports.targets). Upload, validation (progress,
preview, error report) and cancel are the pipeline's (core.imports.pipeline, service); this module holds what
differs: the columns and row checks, and the set-based commit into `learners` (+ `enrolments`).

Identity: a row whose `id_number` matches a learner of the institution is that learner (nothing is created;
they are enrolled if a cohort is named). Rows without an ID number always create a learner.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, BinaryIO

from sqlalchemy import and_, func, insert, literal, select
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    Cohort,
    CohortStatus,
    CohortType,
    Enrolment,
    EnrolmentStatus,
    ImportKind,
    ImportStatus,
    Institution,
    Learner,
    TraineeImport,
    TraineeImportRow,
    User,
)
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import rules
from .contacts import dz_mobile_plain, email_fast
from .jobs import COMMIT
from .pipeline import store_upload

COLUMNS = ("full_name", "id_number", "email", "phone", "date_of_birth")
REASONS = rules.REASONS
SAME_ID_ON_ROW = N_("The same ID number is on row %(first)s.")


def _error(column: str, value: str | None, code: str, template: str | None = None, **params: Any) -> dict[str, Any]:
    return rules.row_problem(column, value, code, template, **params)


ID_MAX = 40
_FAST_ORDER = ("full_name", "id_number", "email", "phone", "date_of_birth")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_DAY_FIRST = re.compile(r"([0-9]{2})([/.-])([0-9]{2})\2([0-9]{4})").fullmatch


def plain_birth_date(raw: str, today: str) -> str | None:
    """check_batch's date of birth: a plainly written one (2001-04-30, or 30/04/2001, 30.04.2001, 30-04-2001
    with two-digit day and month) of a real day not after `today` (YYYY-MM-DD), as YYYY-MM-DD; None for
    anything else, which parse_birth_date judges (the same date, where it finds one)."""
    if _ISO_DAY(raw):
        iso = raw
    elif found := _DAY_FIRST(raw):
        iso = f"{found[4]}-{found[3]}-{found[1]}"
    else:
        return None
    if iso > today:
        return None
    try:
        dt.date.fromisoformat(iso)
    except ValueError:
        return None
    return iso


def parse_birth_date(raw: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    """ISO (2001-04-30) or day first (30/04/2001, 30.04.2001); → (date, None) or (None, reason code)."""
    text = raw.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            value = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return (None, "date_of_birth_future") if value > today else (value, None)
    return None, "date_of_birth_invalid"


class LearnerRowValidator:
    """Checks learner rows one by one (same interface as rules.RowValidator: check, check_batch, valid, invalid,
    by_reason).

    The checks learner and trainee rows share (field count, full name, phone, email, repeats in the file) are
    rules.RowValidator's own, and so is the tally; this adds the ID number and the date of birth."""

    def __init__(self, columns: list[str], today: dt.date, country: str = "DZ") -> None:
        self.shared = rules.RowValidator(columns, country=country, algerian_rule=False)
        self.id_at, self.birth_at = (columns.index(name) if name in columns else -1
                                     for name in ("id_number", "date_of_birth"))
        self.today = today
        self.seen_ids: dict[str, int] = {}
        # check_batch's fast path: the five columns in one C call, when the header names them all
        at = [columns.index(name) if name in columns else -1 for name in _FAST_ORDER]
        self._all = itemgetter(*at) if min(at) >= 0 else None
        self.by_reason = self.shared.by_reason

    @property
    def valid(self) -> int:
        return self.shared.valid

    @property
    def invalid(self) -> int:
        return self.shared.invalid

    @property
    def possible_duplicates(self) -> int:
        return 0  # learners are told apart by ID number, not by name

    def restore(self, point: Any) -> None:
        """rules.RowValidator.restore, and the ID numbers seen."""
        self.shared.restore(point)
        self.seen_ids = dict(point.ids)

    def check_batch(self, rows: Iterable[tuple[int, list[str]]]) -> rules.CheckedRows:
        """`check` for many rows, the common case decided inline, as rules.RowValidator.check_batch does for
        trainee rows: a row with every column, a name within its limit, an ID number within its limit and not
        seen before, a plainly written mobile, a plain email, a plainly written date of birth not after today,
        and nothing already seen in the file. Any other row goes to `check` before anything of it is
        remembered, so every verdict, message and count is check's (tests compare the two on generated files)."""
        clean: list[rules.LearnerCleanRow] = []
        others: list[rules.RowResult] = []
        keep, set_aside, check, fetch, strip = clean.append, others.append, self.check, self._all, str.strip
        shared = self.shared
        width, name_max, today = shared.width, rules.MAX_LENGTHS["full_name"], self.today.isoformat()
        seen_phones, seen_emails, seen_ids = shared.seen_phones, shared.seen_emails, self.seen_ids
        cohort_phones, cohort_emails = shared.cohort_phones, shared.cohort_emails
        # the shared checks' own plain-phone path (an Algerian mobile plainly written is one under either rule)
        plain_phone = dz_mobile_plain if shared.country == "DZ" else shared._plain_phone
        plain_email, plain_birth = email_fast, plain_birth_date
        for row, fields in rows:
            if fetch is None or len(fields) != width:
                set_aside(check(row, fields))
                continue
            name, id_number, email_raw, phone_raw, born = map(strip, fetch(fields))
            # "" for a blank value (never a key of the sets below), None for a value this path can't decide
            phone = plain_phone(phone_raw) if phone_raw else ""
            email = plain_email(email_raw) if email_raw else ""
            born = plain_birth(born, today) if born else ""
            if (phone is None or email is None or born is None or not name or len(name) > name_max
                    or len(id_number) > ID_MAX or id_number in seen_ids or phone in seen_phones
                    or phone in cohort_phones or email in seen_emails or email in cohort_emails):
                set_aside(check(row, fields))
                continue
            if phone:
                seen_phones[phone] = row
            if email:
                seen_emails[email] = row
            if id_number:
                seen_ids[id_number] = row
            keep((row, name, phone, email, id_number, born))
        shared.valid += len(clean)
        return rules.CheckedRows([], others, clean)

    def check(self, row: int, fields: list[str]) -> rules.RowResult:
        result = self.shared.check(row, fields)  # tallied by its shared checks; corrected below if need be
        id_number, birth_raw = (fields[i].strip() if 0 <= i < len(fields) else "" for i in (self.id_at, self.birth_at))
        errors: list[dict[str, Any]] = []
        if len(id_number) > ID_MAX:
            errors.append(_error("id_number", id_number[:100], "id_number_too_long"))
            id_number = id_number[:ID_MAX]
        elif id_number:
            first = self.seen_ids.setdefault(id_number, row)
            if first != row:
                errors.append(_error("id_number", id_number, "duplicate_id_number_in_file", SAME_ID_ON_ROW,
                                     first=first))
        if birth_raw:
            result.date_of_birth, code = parse_birth_date(birth_raw[:40], self.today)
            if code:
                errors.append(_error("date_of_birth", birth_raw[:40], code))
        result.id_number = id_number or None
        if errors:
            if result.ok:
                self.shared.valid -= 1
                self.shared.invalid += 1
            for error in errors:
                self.by_reason[error["code"]] = self.by_reason.get(error["code"], 0) + 1
            result.ok = False
            result.errors.extend(errors)
        return result


def learner_validator(session: Session, imp: TraineeImport) -> Callable[[list[str]], LearnerRowValidator]:
    zone, country = session.execute(select(Institution.time_zone, Institution.country)
                                    .where(Institution.id == imp.institution_id)).one()
    today = clock.today_in(zone or "UTC")
    return lambda columns: LearnerRowValidator(columns, today, country)


# ---------------------------------------------------------------- upload, commit request, cancel


def target_cohort(session: Session, institution_id: int, cohort_id: int | None) -> Cohort | None:
    if cohort_id is None:
        return None
    cohort = session.scalar(select(Cohort).where(Cohort.id == cohort_id, Cohort.institution_id == institution_id))
    if cohort is None or cohort.cohort_type != CohortType.PUBLIC:
        raise ValidationError(N_("Learners can be enrolled only into a public cohort of this institution."),
                              code="unknown_cohort", details=[{"field": "cohort_id", "message": "No such cohort."}])
    if cohort.status != CohortStatus.ACTIVE:
        raise ValidationError(N_("Learners can be enrolled only in an active cohort."), code="cohort_not_active")
    return cohort


def create_learner_import(session: Session, storage: PrivateStorage, *, institution_id: int, cohort_id: int | None,
                          uploader: User, stream: BinaryIO, filename: str, max_bytes: int) -> TraineeImport:
    """Store the file and queue its validation (the trainee pipeline's job kind, told apart by `kind`)."""
    target_cohort(session, institution_id, cohort_id)
    imp = TraineeImport(kind=ImportKind.LEARNERS, institution_id=institution_id, cohort_id=cohort_id)
    return store_upload(session, storage, imp, uploader=uploader, stream=stream, filename=filename,
                                max_bytes=max_bytes)


def learner_import_for(session: Session, institution_ids: Iterable[int] | None, import_id: int,
                       *, for_update: bool = False) -> TraineeImport:
    """A learner import of one of these institutions (None: any); 404 otherwise."""
    stmt = select(TraineeImport).where(TraineeImport.id == import_id, TraineeImport.kind == ImportKind.LEARNERS)
    if institution_ids is not None:
        stmt = stmt.where(TraineeImport.institution_id.in_(list(institution_ids)))
    imp = session.scalar(stmt.with_for_update() if for_update else stmt)
    if imp is None:
        raise NotFound(N_("No such import."))
    return imp


def request_learner_commit(session: Session, imp: TraineeImport, user: User) -> TraineeImport:
    """VALIDATED → COMMITTING once the cohort is checked (asking again changes nothing); a worker inserts."""
    with unit_of_work(session):
        if imp.status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED):
            return imp
        if imp.status != ImportStatus.VALIDATED:
            raise Conflict(N_("Only a validated import can be committed; this one is %(status)s."),
                           code="import_not_validated", params={"status": imp.status.value})
        target_cohort(session, imp.institution_id or 0, imp.cohort_id)
        if imp.valid_count == 0:
            raise ValidationError(N_("There are no valid rows to add."), code="nothing_to_commit")
        imp.status, imp.committed_by_id, imp.error_message = ImportStatus.COMMITTING, user.id, None
        audit.record(session, actor_id=user.id, action="import.commit_requested", entity_type="trainee_import",
                     entity_id=imp.id, before={"status": "VALIDATED"}, after={"status": "COMMITTING"},
                     context={"kind": ImportKind.LEARNERS.value})
        jobs.enqueue(session, COMMIT, imp.id)  # sent after commit, or by the sweeper if the broker is down
    return imp


# ---------------------------------------------------------------- commit


def commit_learner_import(session: Session, import_id: int) -> TraineeImport | None:
    """Insert the valid rows as learners (ID numbers already known are reused) and enrol them all into the
    import's cohort, if any: set-based, under a lock on the institution, idempotent (a second run finds the
    import COMMITTED and does nothing; a run killed half way left nothing, being one transaction)."""
    with unit_of_work(session):
        return _commit_learners(session, import_id)


def _commit_learners(session: Session, import_id: int) -> TraineeImport | None:
    institution_id = session.scalar(select(TraineeImport.institution_id).where(TraineeImport.id == import_id))
    if institution_id is None:
        return None
    session.execute(select(Institution.id).where(Institution.id == institution_id).with_for_update())
    imp = session.execute(select(TraineeImport).where(TraineeImport.id == import_id)
                          .execution_options(populate_existing=True)).scalar_one()
    if imp.status != ImportStatus.COMMITTING:
        return imp  # committed already (a redelivery) or cancelled: nothing to do
    rows = TraineeImportRow
    now = clock.now()
    source = (select(literal(institution_id), rows.full_name, rows.id_number, rows.email, rows.phone_e164,
                     rows.date_of_birth, literal(now, Learner.__table__.c.created_at.type))
              .where(rows.import_id == imp.id, rows.ok.is_(True),
                     ~select(Learner.id).where(Learner.institution_id == institution_id,
                                               Learner.id_number == rows.id_number).exists()))
    inserted = session.connection().execute(
        insert(Learner.__table__).from_select(
            ["institution_id", "full_name", "id_number", "email", "phone_e164", "date_of_birth", "created_at"], source)
        .execution_options(preserve_rowcount=True)).rowcount
    enrolled = _enrol_rows(session, imp, now) if imp.cohort_id is not None else 0
    imp.status, imp.inserted_count, imp.enrolled_count, imp.committed_at = (ImportStatus.COMMITTED, int(inserted),
                                                                           enrolled, now)
    audit.record(session, actor_id=imp.committed_by_id, action="import.commit", entity_type="trainee_import",
                 entity_id=imp.id, before={"status": "COMMITTING"},
                 after={"status": "COMMITTED", "inserted": int(inserted), "enrolled": enrolled},
                 context={"kind": ImportKind.LEARNERS.value, "cohort_id": imp.cohort_id})
    return imp


def _enrol_rows(session: Session, imp: TraineeImport, now: dt.datetime) -> int:
    """Enrol every learner the valid rows name (by ID number, or the learner this import just created)."""
    cohort = session.get(Cohort, imp.cohort_id)
    if cohort is None or cohort.status != CohortStatus.ACTIVE:
        return 0
    zone = session.scalar(select(Institution.time_zone).where(Institution.id == cohort.institution_id)) or "UTC"
    today = clock.today_in(zone)
    enrolled_on = max(today, cohort.start_date) if cohort.start_date else today
    rows = TraineeImportRow
    by_id = and_(rows.id_number.is_not(None), Learner.id_number == rows.id_number)
    # Rows without an ID number: the learner inserted for that row (same name, created at this commit).
    new_without_id = and_(rows.id_number.is_(None), Learner.id_number.is_(None), Learner.created_at == now,
                          Learner.full_name == rows.full_name)
    learners = (select(func.min(Learner.id).label("learner_id"))
                .join(rows, and_(rows.import_id == imp.id, rows.ok.is_(True)))
                .where(Learner.institution_id == cohort.institution_id, by_id | new_without_id)
                .group_by(rows.row_number).subquery())
    source = (select(func.distinct(learners.c.learner_id), literal(cohort.id), literal(cohort.qualification_id),
                     literal(EnrolmentStatus.ACTIVE.value), literal(enrolled_on),
                     literal(now, Enrolment.__table__.c.created_at.type))
              .where(~select(Enrolment.id).where(Enrolment.cohort_id == cohort.id,
                                                 Enrolment.learner_id == learners.c.learner_id).exists()))
    return int(session.connection().execute(
        insert(Enrolment.__table__).from_select(
            ["learner_id", "cohort_id", "qualification_id", "status", "enrolled_on", "created_at"], source)
        .execution_options(preserve_rowcount=True)).rowcount)
