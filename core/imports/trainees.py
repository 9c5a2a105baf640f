"""The trainee target of the import pipeline: a corporate cohort's trainees from CSV. Which cohort may take an
import, and the row checker that knows the cohort's trainees; the commit is core.imports.commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.i18n import N_
from core.institutions.phones import institution_country
from core.models import Cohort, CohortStatus, CohortType, CorporateTrainee, TraineeImport

from . import rules
from .pipeline import MakeValidator


def importable_cohort(session: Session, cohort: Cohort) -> Cohort:
    if cohort.cohort_type != CohortType.CORPORATE:
        raise ValidationError(N_("Trainees can be imported only into a corporate cohort."), code="not_corporate")
    if cohort.status != CohortStatus.ACTIVE:
        raise ValidationError(N_("This cohort is %(status)s: trainees can be imported only into an active cohort."),
                              params={"status": cohort.status.value.lower()}, code="cohort_not_active")
    return cohort


def trainee_validator(session: Session, imp: TraineeImport) -> MakeValidator:
    """The row checker of a trainee file, knowing who is already in the cohort and the institution's country."""
    existing = session.execute(
        select(CorporateTrainee.phone_e164, CorporateTrainee.email, CorporateTrainee.employee_code,
               CorporateTrainee.full_name).where(CorporateTrainee.cohort_id == imp.cohort_id)
    ).all()
    # Column by column, in C loops (a cohort may hold 100k trainees): phones, emails, codes, names.
    phones, emails, codes, names = zip(*existing, strict=True) if existing else ((), (), (), ())
    country = institution_country(session, imp.institution_id)
    return lambda columns: rules.RowValidator(columns, filter(None, phones), filter(None, emails),
                                              filter(None, codes), names, country=country)
