"""An admin imports trainees in Chromium: upload, watch the progress bar, read the preview, commit."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _csv(tmp_path, rows: int = 3000):
    lines = ["full_name;phone;email"]
    for i in range(rows):
        phone = "021 12 34 56" if i % 100 == 7 else f"0555{i:06d}"
        lines.append(f"Trainee {i};{phone};t{i}@example.com")
    path = tmp_path / "trainees.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_admin_uploads_watches_progress_and_commits(page, sign_in_as, live_server, live_worker, demo, tmp_path):
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/admin/corporate-cohorts/{demo['corporate_cohort_id']}")
    page.get_by_role("link", name="Import trainees").click()
    page.get_by_label(re.compile("CSV file")).set_input_files(str(_csv(tmp_path)))
    page.get_by_role("button", name="Upload and check").click()

    page.wait_for_url(re.compile(r"/admin/trainee-imports/\d+$"))
    assert page.get_by_role("progressbar", name="Rows checked").is_visible()
    page.get_by_test_id("import-status").filter(has_text="VALIDATED").wait_for(timeout=60_000)
    assert page.get_by_test_id("valid-count").inner_text() == "2970"
    assert page.get_by_test_id("invalid-count").inner_text() == "30"
    first_preview_row = page.get_by_test_id("preview").locator("tbody tr").first
    assert "Not a mobile number" in first_preview_row.inner_text()  # errors come first

    page.get_by_test_id("commit-button").click()
    page.get_by_test_id("import-status").filter(has_text="COMMITTED").wait_for(timeout=60_000)
    assert page.get_by_test_id("inserted-count").inner_text() == "2970"


def test_status_page_fits_a_phone_screen(phone_page, sign_in_as, live_server, live_worker, demo, tmp_path):
    sign_in_as(phone_page, "admin")
    phone_page.goto(f"{live_server}/admin/corporate-cohorts/{demo['corporate_cohort_id']}/trainees/import")
    phone_page.get_by_label(re.compile("CSV file")).set_input_files(str(_csv(tmp_path, rows=50)))
    phone_page.get_by_role("button", name="Upload and check").click()
    phone_page.get_by_test_id("import-status").filter(has_text="VALIDATED").wait_for(timeout=60_000)
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
