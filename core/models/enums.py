"""Status and kind values. Stored as strings (VARCHAR + no native enum) so adding a value is a small migration."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

from core.i18n import LABELS


def enum_column(enum: type[StrEnum], length: int = 20) -> Enum:
    return Enum(enum, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    ADMIN = "admin"
    SUPPORT = "support"
    TEACHER = "teacher"
    ORG_MEMBER = "org_member"
    REGULATOR = "regulator"
    # A public learner or corporate trainee with their own account (issue 21): sees only their own record.
    LEARNER = "learner"


class CohortStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"
    CANCELLED = "CANCELLED"


class CohortType(StrEnum):
    PUBLIC = "public"
    CORPORATE = "corporate"


class AgreementStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    TERMINATED = "TERMINATED"


class EnrolmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    WITHDRAWN = "WITHDRAWN"
    COMPLETED = "COMPLETED"


class SessionType(StrEnum):
    THEORY = "THEORY"
    PRACTICAL = "PRACTICAL"
    WBL = "WBL"
    ASSESSMENT = "ASSESSMENT"
    ORIENTATION = "ORIENTATION"
    OTHER = "OTHER"

    @property
    def label(self) -> str:
        """The type as people say it ("Work-based learning", not "Wbl"), in English: the screens' own word."""
        return LABELS["SessionType"][self.value]


class SessionStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class AttendanceStatus(StrEnum):
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"
    LATE = "LATE"
    EXCUSED = "EXCUSED"


class ImportStatus(StrEnum):
    UPLOADED = "UPLOADED"
    VALIDATING = "VALIDATING"
    VALIDATED = "VALIDATED"
    FAILED = "FAILED"
    COMMITTING = "COMMITTING"
    COMMITTED = "COMMITTED"
    CANCELLED = "CANCELLED"


class DocumentStatus(StrEnum):
    PENDING = "PENDING"
    BUILDING = "BUILDING"
    READY = "READY"
    FAILED = "FAILED"


class DocumentKind(StrEnum):
    """What a register document covers: one session, or a cohort over a date range."""

    SESSION = "session"
    COHORT = "cohort"
    # A client organization's reports on one corporate cohort (core.portals.reports).
    DELIVERY_REPORT_PDF = "DELIVERY_REPORT_PDF"
    DELIVERY_REPORT_XLSX = "DELIVERY_REPORT_XLSX"
    PROGRESS_REPORT_PDF = "PROGRESS_REPORT_PDF"
    PROGRESS_REPORT_XLSX = "PROGRESS_REPORT_XLSX"
    # Corporate finance (core.finance.documents).
    INVOICE_PDF = "INVOICE_PDF"
    CREDIT_NOTE_PDF = "CREDIT_NOTE_PDF"
    STATEMENT_PDF = "STATEMENT_PDF"   # an organization's statement (its cohort_id is NULL)


class DocumentFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"


class SubmissionResource(StrEnum):
    ATTENDANCE_REGISTER = "ATTENDANCE_REGISTER"


class SubmissionStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class AccessRequestStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    REVOKED = "REVOKED"


class AccessScope(StrEnum):
    INSTITUTION = "institution"
    COHORTS = "cohorts"


class ReminderStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class ApologyStatus(StrEnum):
    """A learner's apology in advance: decided once, by a facilitator or an admin."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
