"""All models, importable from one place: `from core.models import Cohort`."""

from .access import AccessRequest
from .attendance import AtRiskFlag, AttendanceRecord, CorporateAttendanceRecord, EvidenceFile
from .audit import AtRiskNotice, AuditEvent, ReminderSent
from .base import Base, utcnow
from .cohorts import Cohort, CorporateAgreement, CorporateTrainee, Enrolment, cohort_facilitators
from .documents import RegisterDocument, Submission
from .enums import (
    AccessRequestStatus,
    AgreementStatus,
    AttendanceStatus,
    CohortStatus,
    CohortType,
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
from .imports import ImportKind, TraineeImport, TraineeImportRow
from .institutions import Holiday, Institution, Qualification, Room
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
from .sessions import ClassSession

__all__ = [
    "AccessRequest", "AccessRequestStatus", "AgreementStatus", "ApiToken", "AtRiskFlag", "AtRiskNotice",
    "AttendanceRecord", "AttendanceStatus", "AuditEvent", "Base", "ClassSession", "Cohort", "CohortStatus",
    "CohortType",
    "CorporateAgreement", "CorporateAttendanceRecord", "CorporateTrainee", "DocumentKind", "DocumentStatus",
    "Enrolment", "EnrolmentStatus", "EvidenceFile", "Holiday", "ImportKind", "ImportStatus", "Institution", "Learner",
    "LoginAttempt", "LoginSession", "OrgEmployee", "OrgMembership", "Organization", "Qualification",
    "RegisterDocument", "ReminderSent", "ReminderStatus", "Role", "Room", "SessionStatus", "SessionType",
    "Submission", "SubmissionResource", "SubmissionStatus", "TraineeImport", "TraineeImportRow", "User",
    "cohort_facilitators", "utcnow",
]
