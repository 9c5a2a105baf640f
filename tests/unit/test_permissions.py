"""Default role permissions follow DESIGN §4."""

from __future__ import annotations

import pytest

from core.access.permissions import (
    ALL_PERMISSIONS,
    LEARNER_OWN,
    ORGANIZATION_GATED,
    REGULATOR_GATED,
    ROLE_PERMISSIONS,
    role_has,
)
from core.models import Role


def test_super_admin_holds_every_operational_permission():
    assert ALL_PERMISSIONS - ROLE_PERMISSIONS[Role.SUPER_ADMIN] == {"org_programs.view", "corporate_reports.view",
                                                                     "access_requests.create", *LEARNER_OWN}


def test_admin_holds_every_operational_permission_but_managing_institutions():
    assert ALL_PERMISSIONS - ROLE_PERMISSIONS[Role.ADMIN] == {"org_programs.view", "corporate_reports.view",
                                                               "access_requests.create", "institutions.manage",
                                                               *LEARNER_OWN}


def test_support_only_views_cohorts_trainees_and_finance():
    assert ROLE_PERMISSIONS[Role.SUPPORT] == {"cohorts.view", "learners.view", "corporate_cohorts.view",
                                              "corporate_trainees.view", "corporate_finance.view", "at_risk.view"}


def test_teacher_marks_but_cannot_unlock_or_import():
    assert role_has(Role.TEACHER, "corporate_attendance.mark") and role_has(Role.TEACHER, "attendance.mark")
    assert not role_has(Role.TEACHER, "attendance.unlock")
    assert not role_has(Role.TEACHER, "corporate_trainees.import")


def test_org_member_sees_programmes_and_reports_once_granted_and_nothing_more():
    assert ROLE_PERMISSIONS[Role.ORG_MEMBER] == {"org_programs.view", "corporate_reports.view",
                                                 "corporate_finance.view"}


def test_finance_is_staff_managed_support_viewed_teacher_blind_and_granted_to_organizations():
    for role in (Role.SUPER_ADMIN, Role.ADMIN):
        assert role_has(role, "corporate_finance.view") and role_has(role, "corporate_finance.manage")
    assert role_has(Role.SUPPORT, "corporate_finance.view") and not role_has(Role.SUPPORT, "corporate_finance.manage")
    assert not role_has(Role.TEACHER, "corporate_finance.view")
    assert not role_has(Role.ORG_MEMBER, "corporate_finance.manage")
    assert "corporate_finance.view" in ORGANIZATION_GATED


def test_regulator_is_read_only():
    marks = {p for p in ROLE_PERMISSIONS[Role.REGULATOR] if not p.endswith(".view")}
    assert marks == {"access_requests.create"}
    assert ROLE_PERMISSIONS[Role.REGULATOR] - {"access_requests.create", "access_requests.view"} == REGULATOR_GATED


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        role_has(Role.ADMIN, "cohorts.destroy")


def test_learner_holds_only_their_own_record():
    assert ROLE_PERMISSIONS[Role.LEARNER] == set(LEARNER_OWN)
