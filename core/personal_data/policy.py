"""An institution's retention policy: how long each kind of record is kept (README gives the defaults)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.models import RetentionPolicy, User
from core.uow import unit_of_work

DEFAULTS = {"import_files_days": 90, "error_reports_days": 90, "evidence_years": 5, "registers_years": 10,
            "invoices_years": 10}


@dataclass(frozen=True)
class Policy:
    import_files_days: int = 90
    error_reports_days: int = 90
    evidence_years: int = 5
    registers_years: int = 10
    invoices_years: int = 10

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def policy_of(session: Session, institution_id: int | None) -> Policy:
    row = session.get(RetentionPolicy, institution_id) if institution_id is not None else None
    if row is None:
        return Policy()
    return Policy(**{name: getattr(row, name) for name in DEFAULTS})


def set_policy(session: Session, actor: User, institution_id: int, values: dict[str, int]) -> Policy:
    with unit_of_work(session):
        row = session.get(RetentionPolicy, institution_id, with_for_update=True)
        before = policy_of(session, institution_id).as_dict()
        if row is None:
            row = RetentionPolicy(institution_id=institution_id, **DEFAULTS)
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_by_id = actor.id
        session.flush()
        after = policy_of(session, institution_id)
        audit.record(session, actor_id=actor.id, action="retention.update", entity_type="institution",
                     entity_id=institution_id, before=before, after=after.as_dict())
    return after


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
