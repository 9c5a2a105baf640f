"""Personal-data screens: the retention screen (admins only), the learner page's corrections, export and erasure
forms, and a learner's own export from /me."""

from __future__ import annotations

from sqlalchemy import select

from core.models import DataExport, Learner, PersonalDataAccess


def test_the_retention_screen_saves_and_lists_runs_for_admins_only(login):
    admin = login("admin")
    page = admin.get("/admin/personal-data")
    assert page.status_code == 200 and b"import_files_days" in page.data
    saved = admin.post("/admin/personal-data/retention", data={"import_files_days": "30", "error_reports_days": "30",
                                                                "evidence_years": "5", "registers_years": "10",
                                                                "invoices_years": "10"})
    assert saved.status_code == 302
    assert b'value="30"' in admin.get("/admin/personal-data").data
    assert b"/admin/personal-data" in admin.get("/admin").data  # in the admin's menu
    assert login("support").get("/admin/personal-data").status_code == 403
    assert b"/admin/personal-data" not in login("support").get("/admin").data


def test_the_learner_page_shows_corrections_and_is_in_the_access_log(login, client, api, sql, demo):
    learner = sql.scalar(select(Learner).order_by(Learner.id))
    client.patch(f"/api/learners/{learner.id}", headers=api("admin"), json={"full_name": "Renamed Person",
                                                                            "reason": "Typo in the surname"})
    page = login("admin").get(f"/admin/learners/{learner.id}")
    assert page.status_code == 200 and b"Typo in the surname" in page.data and b"Erase" in page.data
    support_page = login("support").get(f"/admin/learners/{learner.id}")
    assert support_page.status_code == 200 and b"Typo in the surname" not in support_page.data
    sql.expire_all()
    roles = {a.viewer_role for a in sql.scalars(select(PersonalDataAccess).where(
        PersonalDataAccess.person_id == learner.id))}
    assert {"admin", "support"} <= roles


def test_staff_and_a_learner_start_exports_from_their_screens(login, sql, demo, published):
    learner = sql.scalar(select(Learner).order_by(Learner.id))
    staff = login("admin").post(f"/admin/people/learners/{learner.id}/data-export",
                                headers={"Referer": f"/admin/learners/{learner.id}"})
    mine = login("learner").post("/me/data-export")
    assert staff.status_code == 302 and mine.status_code == 302
    kinds = {(e.person_kind, e.requested_by_id) for e in sql.scalars(select(DataExport))}
    assert ("learners", demo["users"]["admin"]) in kinds and ("users", demo["users"]["learner"]) in kinds
    assert [name for name, _ in published].count("personal_data.build_export") == 2


def test_erasure_from_the_page_needs_the_password(login, sql, demo):
    learner = sql.scalar(select(Learner).order_by(Learner.id.desc()))
    admin = login("admin")
    refused = admin.post(f"/admin/people/learners/{learner.id}/erasure", data={"reason": "asked", "password": "no"})
    sql.expire_all()
    assert refused.status_code in (302, 403) and sql.get(Learner, learner.id).full_name == learner.full_name
    done = admin.post(f"/admin/people/learners/{learner.id}/erasure",
                      data={"reason": "asked", "password": "demo-password"})
    sql.expire_all()
    assert done.status_code == 302 and sql.get(Learner, learner.id).full_name.startswith("Erased learner ")
