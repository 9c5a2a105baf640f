"""All models, importable from one place: `from core.models import Cohort`."""

from core import collation as _collation  # noqa: F401  (SQLite: names_fold and name collations on every connection)
from core.audit_trail import chain as _chain  # noqa: F401  (SQLite: the audit chain's hash on every connection)

from .access import (
    AccessRequest,
    AccessRequestNotice,
    AccessRequestRead,
    OrganizationGrant,
    access_request_cohorts,
)
from .apologies import Apology, apology_sessions
from .at_risk import AtRiskLevel, AtRiskLevelChange, AtRiskLevelNotice
from .attendance import AtRiskFlag, AttendanceRecord, CorporateAttendanceRecord, EvidenceFile
from .audit import AtRiskNotice, AuditChainAlert, AuditChainHead, AuditEvent, ReminderSent
from .base import Base, utcnow
from .checkin import CheckInAttempt, CheckInSettings, CheckInWindow
from .cohorts import Cohort, CorporateAgreement, CorporateTrainee, Enrolment, cohort_facilitators
from .documents import RegisterDocument, Submission
from .enums import (
    AccessRequestStatus,
    AccessScope,
    AgreementStatus,
    ApologyStatus,
    AttendanceStatus,
    CohortStatus,
    CohortType,
    DocumentFormat,
    DocumentKind,
    DocumentStatus,
    EnrolmentStatus,
    ImportStatus,
    ReminderStatus,
    Role,
    SessionStatus,
    SessionType,
    SubmissionResource,
    SubmissionStatus,
)
from .finance import AgreementTermsChange, CreditNote, DocumentCounter, Invoice, InvoiceLine, Payment
from .imports import ImportKind, TraineeImport, TraineeImportRow
from .institutions import Holiday, Institution, Qualification, Room
from .jobs import ACTIVE_JOB_STATUSES, Job, JobStatus, WorkerHeartbeat
from .people import (
    ApiToken,
    Learner,
    LoginAttempt,
    LoginSession,
    Organization,
    OrgEmployee,
    OrgMembership,
    User,
)
from .personal_data import (
    AuditRedaction,
    Breach,
    DataExport,
    PersonalDataAccess,
    PersonalDataCorrection,
    PersonalDataErasure,
    ProcessingRegister,
    RetentionPolicy,
    RetentionRun,
)
from .portals import CorporateSessionCounts, PublicSessionCounts
from .seals import InstitutionSeal
from .sessions import CalendarEventVersion, ClassSession, LockSweep, SessionLockRecord
from .signatures import LearnerSignature, SignOff

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "AccessRequest",
    "AccessRequestNotice",
    "AccessRequestRead",
    "AccessRequestStatus",
    "AccessScope",
    "AgreementStatus",
    "AgreementTermsChange",
    "ApiToken",
    "Apology",
    "ApologyStatus",
    "AtRiskFlag",
    "AtRiskLevel",
    "AtRiskLevelChange",
    "AtRiskLevelNotice",
    "AtRiskNotice",
    "AttendanceRecord",
    "AttendanceStatus",
    "AuditChainAlert",
    "AuditChainHead",
    "AuditEvent", "AuditRedaction",
    "Base",
    "Breach",
    "CalendarEventVersion",
    "CheckInAttempt",
    "CheckInSettings",
    "CheckInWindow",
    "ClassSession",
    "Cohort",
    "CohortStatus",
    "CohortType",
    "CorporateAgreement",
    "CorporateAttendanceRecord",
    "CorporateSessionCounts",
    "CorporateTrainee",
    "CreditNote",
    "DataExport",
    "DocumentCounter",
    "DocumentFormat",
    "DocumentKind",
    "DocumentStatus",
    "Enrolment",
    "EnrolmentStatus",
    "EvidenceFile",
    "Holiday",
    "ImportKind",
    "ImportStatus",
    "Institution",
    "InstitutionSeal",
    "Invoice",
    "InvoiceLine",
    "Job",
    "JobStatus",
    "Learner",
    "LearnerSignature",
    "LockSweep",
    "LoginAttempt",
    "LoginSession",
    "OrgEmployee",
    "OrgMembership",
    "Organization",
    "OrganizationGrant",
    "Payment",
    "PersonalDataAccess",
    "PersonalDataCorrection",
    "PersonalDataErasure",
    "ProcessingRegister",
    "PublicSessionCounts",
    "Qualification",
    "RegisterDocument",
    "ReminderSent",
    "ReminderStatus",
    "RetentionPolicy",
    "RetentionRun",
    "Role",
    "Room",
    "SessionLockRecord",
    "SessionStatus",
    "SessionType",
    "SignOff",
    "Submission",
    "SubmissionResource",
    "SubmissionStatus",
    "TraineeImport",
    "TraineeImportRow",
    "User",
    "WorkerHeartbeat",
    "access_request_cohorts",
    "apology_sessions",
    "cohort_facilitators",
    "utcnow",
]
