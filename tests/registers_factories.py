"""Known data for register documents: the demo's public cohort plus trainees whose names test collation,
scripts, formula neutralization and the URL allow-list, with marks set directly."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import select

from core import clock
from core.models import AttendanceRecord, AttendanceStatus, Enrolment, Learner, User
from core.registers import service
from core.registers.commands import RequestRegister
from core.storage import PrivateStorage
from tests.attendance_factories import make_session

ACCENTED = "Élodie Zérouali"
ARABIC = "ياسين بلقاسم"
FORMULA = "=HYPERLINK(\"http://evil.example\")"
FILE_URL = '<img src="file:///etc/passwd"> Fichier'
REMOTE_URL = '<link rel=stylesheet href="http://198.51.100.7/x.css"> Remote'
EXTRA_NAMES = [ACCENTED, ARABIC, FORMULA, FILE_URL, REMOTE_URL]


def add_learners(sql: Any, cohort_id: int, institution_id: int, names: list[str], enrolled_on: dt.date | None = None
                 ) -> dict[str, int]:
    """Learners enrolled in the cohort; returns enrolment ids by name."""
    ids = {}
    for i, name in enumerate(names):
        learner = Learner(institution_id=institution_id, full_name=name, id_number=f"X{cohort_id}-{i:05d}")
        sql.add(learner)
        sql.flush()
        enrolment = Enrolment(learner_id=learner.id, cohort_id=cohort_id, enrolled_on=enrolled_on)
        sql.add(enrolment)
        sql.flush()
        ids[name] = enrolment.id
    sql.commit()
    return ids


def enrolments_by_name(sql: Any, cohort_id: int) -> dict[str, int]:
    rows = sql.execute(select(Learner.full_name, Enrolment.id).join(Enrolment, Enrolment.learner_id == Learner.id)
                       .where(Enrolment.cohort_id == cohort_id)).all()
    return {name: eid for name, eid in rows}


def mark(sql: Any, session_id: int, day: dt.date, marks: dict[int, tuple[str, int | None, str | None]],
         by: int | None = None) -> None:
    """Set marks directly: {enrolment id: (status, minutes late, note)}."""
    for enrolment_id, (status, late, note) in marks.items():
        row = sql.scalar(select(AttendanceRecord).where(AttendanceRecord.enrolment_id == enrolment_id,
                                                        AttendanceRecord.session_id == session_id))
        if row is None:
            sql.add(AttendanceRecord(enrolment_id=enrolment_id, session_id=session_id, record_date=day,
                                     status=AttendanceStatus(status), minutes_late=late, notes=note, marked_by_id=by))
        else:
            row.status, row.minutes_late, row.notes, row.version = AttendanceStatus(status), late, note, row.version + 1
    sql.commit()


def past_session(sql: Any, cohort_id: int, days_ago: int = 1, hour: int = 18) -> tuple[int, dt.date]:
    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=days_ago)
    return make_session(sql, cohort_id, day, dt.time(hour), dt.time(hour + 1)), day


def build(sql: Any, storage: PrivateStorage, user_id: int, processes: int = 1, pages_per_run: int = 8,
          **request: Any) -> Any:
    """Request and build a document in this process (real WeasyPrint, real storage)."""
    user = sql.get(User, user_id)
    doc, _ = service.request_document(sql, user, RequestRegister.model_validate(request))
    settings = service.BuildSettings(base_url="http://testserver", processes=processes, pages_per_run=pages_per_run)
    return service.build_document(sql, storage, doc.id, settings)


def wait_until_built(client: Any, url: str, headers: dict[str, str], timeout: float = 90.0) -> dict[str, Any]:
    """Poll a document's status URL until the worker is done with it."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers).get_json()
        if body["status"] in ("READY", "FAILED"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"document not built: {body}")
