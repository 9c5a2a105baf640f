"""Steps on the screens that several end-to-end tests take the same way."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any


def create_cohort(page: Any, live_server: str, name: str, qualification: str, start: dt.date, end: dt.date) -> str:
    """Create a public cohort from the cohort list's form; returns the new cohort page's URL."""
    page.goto(f"{live_server}/institution/attendance/cohorts")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Qualification").select_option(label=qualification)
    page.get_by_label("Start", exact=True).fill(start.isoformat())
    page.get_by_label("End", exact=True).fill(end.isoformat())
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r"/institution/attendance/cohorts/\d+$"))
    return page.url
