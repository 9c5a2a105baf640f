"""Invoice numbers: gap-free per institution and year under concurrent issues, and a rolled-back issue gives its
number back (core.finance.store: the counter row locked by the upsert that takes the number, until the commit)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.finance import invoices
from core.finance.commands import CreateInvoice
from core.models import Invoice, User
from core.uow import unit_of_work
from tests.finance_factories import mark_all, priced_cohort

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


def _drafts(sql, demo, count: int) -> list[int]:
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    admin = sql.get(User, demo["users"]["admin"])
    command = CreateInvoice(cohort_id=cohort["cohort_id"], **PERIOD)
    return [invoices.create_draft(sql, admin, command, grace_hours=24).id for _ in range(count)]


@pytest.mark.postgres
def test_twenty_concurrent_issues_get_twenty_consecutive_numbers(app, sql, demo):
    ids = _drafts(sql, demo, 20)
    engine = sql.get_bind()
    start = threading.Barrier(len(ids), timeout=60)
    errors: list[BaseException] = []

    def issue(invoice_id: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                admin = session.get(User, demo["users"]["admin"])
                start.wait()
                invoices.issue(session, admin, invoice_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    sql.expire_all()
    numbers = sorted(sql.scalars(select(Invoice.number).where(Invoice.id.in_(ids))))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 21)]


def test_a_rolled_back_issue_leaves_no_gap(app, sql, demo):
    first, second = _drafts(sql, demo, 2)
    admin = sql.get(User, demo["users"]["admin"])
    with pytest.raises(RuntimeError), unit_of_work(sql):
        invoices.issue(sql, admin, first)
        raise RuntimeError("the PDF queue said no")
    sql.expire_all()
    assert sql.get(Invoice, first).number is None and sql.get(Invoice, first).status == "draft"
    assert invoices.issue(sql, admin, second).number == "INV-2026-000001"
    assert invoices.issue(sql, admin, first).number == "INV-2026-000002"
