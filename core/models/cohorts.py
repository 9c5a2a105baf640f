"""Cohorts (public and corporate), the agreements corporate ones come from, and their rosters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, name_fold_index, utcnow
from .enums import AgreementStatus, CohortStatus, CohortType, EnrolmentStatus, enum_column

cohort_facilitators = Table(
    "cohort_facilitators",
    Base.metadata,
    Column("cohort_id", Integer, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class CorporateAgreement(Timestamped, Base):
    __tablename__ = "corporate_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[AgreementStatus] = mapped_column(enum_column(AgreementStatus), default=AgreementStatus.DRAFT)
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]
    # Commercial terms (issue 23, core.finance): money in the currency's minor unit, rates in hundredths of a %.
    pricing_model: Mapped[str | None] = mapped_column(String(30))
    unit_price: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    tax_rate: Mapped[int | None]
    upfront_percent: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    billing_plan: Mapped[str] = mapped_column(String(16), default="monthly", server_default=text("'monthly'"))
    # The attendance statuses that make a billed trainee-day (comma-separated; default: attended days only).
    billable_statuses: Mapped[str] = mapped_column(String(40), default="PRESENT,LATE",
                                                   server_default=text("'PRESENT,LATE'"))
    # At-risk (issue 24): the contract's required attendance (percent) and consecutive-absence limit; NULL: inherit.
    required_rate: Mapped[float | None] = mapped_column(Float)
    absence_limit: Mapped[int | None]


class Cohort(Timestamped, Base):
    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint(
            "cohort_type <> 'corporate' OR (organization_id IS NOT NULL AND agreement_id IS NOT NULL)",
            name="corporate_has_agreement",
        ),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        Index("ix_cohorts_institution_status", "institution_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    qualification_id: Mapped[int | None] = mapped_column(ForeignKey("qualifications.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date | None]
    end_date: Mapped[dt.date | None]
    status: Mapped[CohortStatus] = mapped_column(enum_column(CohortStatus), default=CohortStatus.ACTIVE)
    cohort_type: Mapped[CohortType] = mapped_column(enum_column(CohortType), default=CohortType.PUBLIC)
    # Corporate-only fields (NULL for public cohorts).
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("corporate_agreements.id"), index=True)
    proposal_reference: Mapped[str | None] = mapped_column(String(80))
    request_reference: Mapped[str | None] = mapped_column(String(80))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    expected_trainee_count: Mapped[int | None]
    # At-risk (issue 24): overrides of the qualification's / agreement's required rate and absence limit.
    required_rate: Mapped[float | None] = mapped_column(Float)
    absence_limit: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())

    facilitators = relationship("User", secondary=cohort_facilitators, lazy="selectin")

    @property
    def is_corporate(self) -> bool:
        return self.cohort_type == CohortType.CORPORATE


class Enrolment(Timestamped, Base):
    """A learner on a qualification, in a cohort (public cohorts' roster)."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("learner_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    qualification_id: Mapped[int | None] = mapped_column(ForeignKey("qualifications.id", ondelete="SET NULL"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(enum_column(EnrolmentStatus), default=EnrolmentStatus.ACTIVE)
    enrolled_on: Mapped[dt.date | None]
    # From this date the learner leaves the registers; earlier registers keep them and their marks.
    withdrawn_on: Mapped[dt.date | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(String(300))

    learner = relationship("Learner", lazy="joined")


class CorporateTrainee(Timestamped, Base):
    """A corporate cohort's trainee, usually imported from the client's CSV."""

    __tablename__ = "corporate_trainees"
    __table_args__ = (
        UniqueConstraint("cohort_id", "phone_e164"),
        UniqueConstraint("cohort_id", "email"),
        UniqueConstraint("cohort_id", "employee_code"),
        # A person in several corporate cohorts has one trainee row per cohort, all tied to one account.
        Index("uq_corporate_trainees_cohort_user", "cohort_id", "user_id", unique=True),
        Index("ix_corporate_trainees_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))  # normalized, lower-case
    job_title: Mapped[str | None] = mapped_column(String(120))
    employee_code: Mapped[str | None] = mapped_column(String(60))
    department: Mapped[str | None] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    org_employee_id: Mapped[int | None] = mapped_column(ForeignKey("org_employees.id", ondelete="SET NULL"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("trainee_imports.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(default=True)


name_fold_index("ix_corporate_trainees_name_fold", CorporateTrainee.full_name)
