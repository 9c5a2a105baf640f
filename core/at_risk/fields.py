"""The at-risk settings as typed fields, shared by the qualification, cohort, agreement and institution edits."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .rules import check_rules

RequiredRate = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, examples=[80],
                                      description="Required attendance in percent (0–100); null: inherit "
                                                  "(cohort → agreement → qualification → AT_RISK_THRESHOLD).")]
AbsenceLimit = Annotated[int, Field(ge=1, le=1000, examples=[3],
                                    description="Consecutive absences that make a trainee at risk (≥ 1); null: "
                                                "inherit (… → AT_RISK_CONSECUTIVE_MISSES).")]
ExcusedCountsAs = Literal["attended", "not_counted", "absent"]
WarningRules = Annotated[dict[str, list[str]], Field(max_length=3, examples=[{"watch": ["learner"]}],
                                                   description="Who hears of each level (watch, at_risk, "
                                                               "cannot_reach): learner, facilitator, "
                                                               "cohort_admin, org_contact."),
                         AfterValidator(check_rules)]
AT_RISK_FIELDS = ("required_rate", "absence_limit")
