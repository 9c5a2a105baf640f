"""Operational tasks: a ping that proves the worker, broker and database are all alive."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy import text

from tasks import db_session


@shared_task(name="system.ping")
def ping(tag: str = "") -> dict[str, object]:
    db_ok = db_session().execute(text("SELECT 1")).scalar() == 1
    return {"pong": tag, "db": db_ok}
