"""Builders for portal and regulator tests: marks written directly, a second client organization, a second
institution (each with people whose names must never leak across)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import select

from core import clock
from core.access.passwords import hash_password
from core.models import (
    AgreementStatus,
    ClassSession,
    Cohort,
    CohortType,
    CorporateAgreement,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Institution,
    Organization,
    OrgMembership,
    Role,
    User,
)
from tests.attendance_factories import make_session

PASSWORD = "demo-password"
_HASH: list[str] = []


def add_user(sql: Any, email: str, role: Role, name: str, institution_id: int | None = None, **extra: Any) -> User:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    user = User(email=email, role=role, full_name=name, password_hash=_HASH[0], institution_id=institution_id, **extra)
    sql.add(user)
    sql.commit()
    return user


def past_sessions(sql: Any, cohort_id: int) -> list[int]:
    return list(sql.scalars(select(ClassSession.id).where(ClassSession.cohort_id == cohort_id,
                                                          ClassSession.ends_at < clock.now())
                            .order_by(ClassSession.starts_at)))


def mark(sql: Any, session_ids: list[int], statuses: dict[int, str]) -> None:
    """Every session in `session_ids`: each trainee (id → status) marked the same way."""
    sql.add_all([CorporateAttendanceRecord(trainee_id=t, session_id=s, status=status)
                 for s in session_ids for t, status in statuses.items()])
    sql.commit()


def trainees(sql: Any, cohort_id: int) -> list[CorporateTrainee]:
    return list(sql.scalars(select(CorporateTrainee).where(CorporateTrainee.cohort_id == cohort_id)
                            .order_by(CorporateTrainee.id)))


def corporate_cohort(sql: Any, institution_id: int, organization_id: int, name: str, people: list[str],
                     sessions: int = 3) -> int:
    """A corporate cohort with its own agreement, trainees (phone and email each) and past sessions."""
    agreement = CorporateAgreement(organization_id=organization_id, reference=f"REF-{name}", title=name,
                                   status=AgreementStatus.ACTIVE)
    sql.add(agreement)
    sql.flush()
    cohort = Cohort(institution_id=institution_id, name=name, cohort_type=CohortType.CORPORATE,
                    organization_id=organization_id, agreement_id=agreement.id,
                    start_date=clock.today_in("Africa/Algiers") - dt.timedelta(days=30))
    sql.add(cohort)
    sql.flush()
    for i, person in enumerate(people):
        sql.add(CorporateTrainee(cohort_id=cohort.id, full_name=person, phone_e164=f"+21377{cohort.id:03d}{i:04d}",
                                 email=f"p{cohort.id}-{i}@{name.lower().replace(' ', '')}.example",
                                 employee_code=f"E{cohort.id}-{i}"))
    sql.commit()
    today = clock.today_in("Africa/Algiers")
    for offset in range(sessions):
        make_session(sql, cohort.id, today - dt.timedelta(days=offset + 2), dt.time(8), dt.time(9))
    return cohort.id


def second_organization(sql: Any, institution_id: int) -> dict[str, Any]:
    """Globex (same institution): its own cohort, trainees and member globex@demo.example."""
    org = Organization(institution_id=institution_id, name="Globex Corp")
    sql.add(org)
    sql.commit()
    cohort_id = corporate_cohort(sql, institution_id, org.id, "Globex Safety", ["Zora Outsider", "Yanis Elsewhere"])
    member = add_user(sql, "globex@demo.example", Role.ORG_MEMBER, "Gina Globex")
    sql.add(OrgMembership(organization_id=org.id, user_id=member.id))
    sql.commit()
    return {"organization_id": org.id, "cohort_id": cohort_id, "member_id": member.id}


def second_institution(sql: Any) -> dict[str, Any]:
    """Another training provider with its own admin and a public cohort."""
    inst = Institution(name="Other Provider", slug="other", time_zone="Africa/Algiers")
    sql.add(inst)
    sql.commit()
    cohort = Cohort(institution_id=inst.id, name="Other — Plumbing", cohort_type=CohortType.PUBLIC)
    sql.add(cohort)
    sql.commit()
    admin = add_user(sql, "other-admin@demo.example", Role.ADMIN, "Olga Other", inst.id)
    return {"institution_id": inst.id, "cohort_id": cohort.id, "admin_id": admin.id}


def built_report(client: Any, headers: dict[str, str], cohort_id: int, **body: Any) -> dict[str, Any]:
    """Request a report through the API (202) and poll its status URL until the worker has built it."""
    asked = client.post(f"/api/org/programs/{cohort_id}/reports", headers=headers, json=body)
    assert asked.status_code == 202, asked.get_json()
    report = asked.get_json()
    # The worker may have picked it up already; the download appears only once it is READY.
    assert report["status"] in ("PENDING", "BUILDING") or report["download_url"]
    deadline = time.monotonic() + 90
    while report["status"] in ("PENDING", "BUILDING") and time.monotonic() < deadline:
        time.sleep(0.3)
        report = client.get(report["status_url"], headers=headers).get_json()
    assert report["status"] == "READY", report
    return report
