"""The at-risk list's answer (GET /api/institution/at-risk) and its export rows."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel, Field

from core.at_risk.reads import Standing
from core.attendance.export import neutralize


class AtRiskItem(BaseModel):
    enrolment_id: int | None = Field(description="Public cohorts: the enrolment; null for corporate trainees.")
    learner_id: int | None
    trainee_id: int | None = Field(description="Corporate cohorts: the trainee; null for public learners.")
    cohort_id: int
    cohort_name: str
    name: str
    level: str = Field(description="ok, watch, at_risk or cannot_reach.")
    reason: str | None
    rate: float | None = Field(description="Attendance so far, percent (null before any counted mark).")
    required_rate: float
    best_reachable_rate: float | None = Field(description="If every remaining planned session is attended.")
    margin: int = Field(description="Sessions that may still be missed; negative when out of reach.")
    consecutive_absences: int
    absence_limit: int
    remaining: int = Field(description="Planned sessions still without a mark.")
    excused_counts_as: str = Field(description="How EXCUSED counted: attended, not_counted or absent.")
    changed_at: str
    learner_url: str | None
    register_url: str | None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def present_standing(s: Standing) -> dict[str, Any]:
    lv = s.level
    learner_url = url_for("people.learner_edit", learner_id=s.learner_id) if s.learner_id else \
        url_for("cohorts.corporate_cohort_detail", cohort_id=s.cohort_id) if s.trainee_id else None
    register_url = url_for("attendance.register", session_id=s.register_session_id) \
        if s.register_session_id else None
    return {"enrolment_id": s.enrolment_id, "learner_id": s.learner_id, "trainee_id": s.trainee_id,
            "cohort_id": s.cohort_id, "cohort_name": s.cohort_name, "name": s.name, "level": lv.level,
            "reason": lv.reason, "rate": _rounded(lv.rate), "required_rate": lv.required_rate,
            "best_reachable_rate": _rounded(lv.best_reachable_rate), "margin": lv.margin,
            "consecutive_absences": lv.consecutive_absences, "absence_limit": lv.absence_limit,
            "remaining": lv.remaining, "excused_counts_as": s.excused_counts_as,
            "changed_at": lv.changed_at.isoformat(), "learner_url": learner_url, "register_url": register_url}


EXPORT_HEADER = ["enrolment_id", "learner_id", "trainee_id", "cohort_id", "cohort", "name", "level", "rate",
                 "required_rate", "best_reachable_rate", "margin", "consecutive_absences", "remaining",
                 "excused_counts_as"]


def export_rows(items: list[Standing]) -> list[list[Any]]:
    """The list as rows: numbers stay numbers, every text cell is neutralized (a name like "=HYPERLINK(…)"
    stays text)."""
    out: list[list[Any]] = [list(EXPORT_HEADER)]
    for s in items:
        lv = s.level
        out.append([s.enrolment_id, s.learner_id, s.trainee_id, s.cohort_id, neutralize(s.cohort_name),
                    neutralize(s.name), lv.level, _rounded(lv.rate), lv.required_rate,
                    _rounded(lv.best_reachable_rate), lv.margin, lv.consecutive_absences, lv.remaining,
                    s.excused_counts_as])
    return out
