"""Demo data for the embedded quick start and for tests. Idempotent: a second run adds nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.access.passwords import hash_password
from core.models import (
    AccessRequest,
    AccessRequestStatus,
    AccessScope,
    AgreementStatus,
    AttendanceRecord,
    AttendanceStatus,
    ClassSession,
    Cohort,
    CohortType,
    CorporateAgreement,
    CorporateTrainee,
    Enrolment,
    Institution,
    Learner,
    Organization,
    OrganizationGrant,
    OrgMembership,
    Qualification,
    Role,
    Room,
    SessionType,
    User,
)

DEMO_PASSWORD = "demo-password"
DEMO_USERS: list[tuple[str, Role, str]] = [
    ("super@demo.example", Role.SUPER_ADMIN, "Sara Super"),
    ("admin@demo.example", Role.ADMIN, "Amine Admin"),
    ("support@demo.example", Role.SUPPORT, "Sofia Support"),
    ("teacher@demo.example", Role.TEACHER, "Tarek Teacher"),
    ("teacher2@demo.example", Role.TEACHER, "Nadia Facilitator"),
    ("org@demo.example", Role.ORG_MEMBER, "Omar Client"),
    ("regulator@demo.example", Role.REGULATOR, "Rania Regulator"),
    # The first public learner's own account (issue 21), tied to their learner row below.
    ("learner@demo.example", Role.LEARNER, "Yacine Belkacem"),
]
PUBLIC_NAMES = ["Yacine Belkacem", "Lina Haddad", "Karim Mansouri", "Amel Bouzid", "Sofiane Cherif",
                "Imane Saidi", "Walid Rahmani", "Nour Benali", "Hichem Ziani", "Meriem Kaci",
                "Anis Brahimi", "Samira Djebbar"]
CORPORATE_NAMES = ["Farid Touati", "Asma Khelifi", "Mourad Hamdi", "Yasmine Aouadi", "Reda Lounis",
                   "Kenza Ferhat", "Bilal Amrani", "Sabrina Mekki", "Nassim Guerfi", "Houda Slimani"]


def _get_or_add(session: Session, model: type, lookup: dict, **extra: object):
    row = session.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **extra)
        session.add(row)
        session.flush()
    return row


def _weekdays_around(today: dt.date, before: int, after: int) -> list[dt.date]:
    days, day = [], today - dt.timedelta(days=before * 2)
    while day <= today + dt.timedelta(days=after * 2):
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    past = [d for d in days if d < today][-before:]
    future = [d for d in days if d >= today][:after]
    return past + future


def load_demo_data(session: Session, time_zone: str = "Africa/Algiers") -> dict[str, object]:
    """Create the demo institution (in `time_zone`, when it is new) and everything in it, once, with its
    sessions on the weekdays around today as the clock says. Returns ids useful to callers."""
    inst = _get_or_add(session, Institution, {"slug": "demo"}, name="Demo Training Institute",
                       time_zone=time_zone)
    today = clock.today_in(inst.time_zone)
    welding = _get_or_add(session, Qualification, {"institution_id": inst.id, "code": "WLD-101"},
                          title="Welding Fundamentals")
    forklift = _get_or_add(session, Qualification, {"institution_id": inst.id, "code": "FLK-201"},
                           title="Forklift Operation")
    room_a = _get_or_add(session, Room, {"institution_id": inst.id, "name": "Room A"}, capacity=30, location="Block 1")
    room_b = _get_or_add(session, Room, {"institution_id": inst.id, "name": "Room B"}, capacity=20, location="Block 1")
    _get_or_add(session, Room, {"institution_id": inst.id, "name": "Workshop"}, capacity=15, location="Block 2")
    org = _get_or_add(session, Organization, {"institution_id": inst.id, "name": "Acme Logistics"},
                      contact_email="hr@acme.example", contact_phone="+213551234567")
    agreement = _get_or_add(session, CorporateAgreement, {"reference": "ACME-2026-001"}, organization_id=org.id,
                            title="Forklift upskilling 2026", status=AgreementStatus.ACTIVE,
                            start_date=today - dt.timedelta(days=60), end_date=today + dt.timedelta(days=300))

    password_hash = None
    users: dict[Role | str, User] = {}
    for email, role, name in DEMO_USERS:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=email, role=role, full_name=name, password_hash=password_hash,
                        institution_id=inst.id)
            session.add(user)
            session.flush()
        users[email.split("@")[0]] = user
    _get_or_add(session, OrgMembership, {"organization_id": org.id, "user_id": users["org"].id})
    teacher = users["teacher"]

    public = session.scalar(select(Cohort).where(Cohort.institution_id == inst.id, Cohort.name == "Welding — Intake 1"))
    if public is None:
        public = Cohort(institution_id=inst.id, qualification_id=welding.id, name="Welding — Intake 1",
                        cohort_type=CohortType.PUBLIC, start_date=today - dt.timedelta(days=30),
                        end_date=today + dt.timedelta(days=90))
        public.facilitators.append(teacher)
        session.add(public)
        session.flush()
        for i, name in enumerate(PUBLIC_NAMES):
            learner = Learner(institution_id=inst.id, full_name=name, id_number=f"DEMO{i:04d}",
                              email=f"learner{i}@example.com", phone_e164=f"+2135500000{i:02d}")
            session.add(learner)
            session.flush()
            session.add(Enrolment(learner_id=learner.id, qualification_id=welding.id, cohort_id=public.id,
                                  enrolled_on=public.start_date))
        session.flush()
    first_learner = session.scalar(select(Learner).join(Enrolment, Enrolment.learner_id == Learner.id)
                                   .where(Enrolment.cohort_id == public.id).order_by(Learner.id).limit(1))
    if first_learner is not None and first_learner.user_id is None:
        first_learner.user_id = users["learner"].id

    corporate = session.scalar(select(Cohort).where(Cohort.agreement_id == agreement.id))
    if corporate is None:
        corporate = Cohort(institution_id=inst.id, qualification_id=forklift.id, name="Acme — Forklift Q4",
                           cohort_type=CohortType.CORPORATE, organization_id=org.id, agreement_id=agreement.id,
                           contact_name="Hana Hr", contact_phone="+213661234567", expected_trainee_count=10,
                           start_date=today - dt.timedelta(days=20), end_date=today + dt.timedelta(days=60))
        corporate.facilitators.append(teacher)
        session.add(corporate)
        session.flush()
        for i, name in enumerate(CORPORATE_NAMES):
            session.add(CorporateTrainee(cohort_id=corporate.id, full_name=name, phone_e164=f"+2136600000{i:02d}",
                                         email=f"trainee{i}@acme.example", employee_code=f"ACME{i:03d}",
                                         department="Warehouse", job_title="Operator"))
        session.flush()

    has_sessions = session.scalar(select(ClassSession.id).where(ClassSession.cohort_id == public.id).limit(1))
    if has_sessions is None:
        for cohort, room, start, end in ((public, room_a, dt.time(9), dt.time(12)),
                                         (corporate, room_b, dt.time(13), dt.time(16))):
            for day in _weekdays_around(today, before=5, after=5):
                session.add(ClassSession(
                    institution_id=inst.id, cohort_id=cohort.id, session_date=day, start_time=start, end_time=end,
                    starts_at=clock.local_to_utc(day, start, inst.time_zone),
                    ends_at=clock.local_to_utc(day, end, inst.time_zone),
                    session_type=SessionType.THEORY if day.weekday() % 2 else SessionType.PRACTICAL,
                    room_id=room.id, instructor_id=teacher.id, title=f"{cohort.name} — {day:%a %d %b}"))
        # A few legacy daily records (no session), as older installs have them.
        enrolments = session.scalars(select(Enrolment).where(Enrolment.cohort_id == public.id)).all()
        for enrolment in enrolments[:4]:
            session.add(AttendanceRecord(enrolment_id=enrolment.id, record_date=public.start_date,
                                         status=AttendanceStatus.PRESENT, marked_by_id=teacher.id))
        session.flush()

    if session.scalar(select(AccessRequest.id).where(AccessRequest.regulator_id == users["regulator"].id)) is None:
        grant = AccessRequest(regulator_id=users["regulator"].id, institution_id=inst.id, scope=AccessScope.COHORTS,
                              reason="Annual QCTO audit of attendance registers",
                              status=AccessRequestStatus.APPROVED, decided_by_id=users["admin"].id,
                              decided_at=clock.now(), expires_at=clock.now() + dt.timedelta(days=30))
        grant.cohorts = [public]
        session.add(grant)
    users["regulator"].agency_name = users["regulator"].agency_name or "QCTO"
    # Acme may download reports naming its own employees (an admin grants this per organization).
    _get_or_add(session, OrganizationGrant, {"organization_id": org.id, "permission": "corporate_reports.view"},
                granted_by_id=users["admin"].id)
    _get_or_add(session, OrganizationGrant, {"organization_id": org.id, "permission": "corporate_finance.view"},
                granted_by_id=users["admin"].id)
    session.commit()
    return {"institution_id": inst.id, "public_cohort_id": public.id, "corporate_cohort_id": corporate.id,
            "organization_id": org.id, "agreement_id": agreement.id}
