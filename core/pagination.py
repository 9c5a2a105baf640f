"""One page of any list: the rows of a statement's page and the statement's total, in two queries."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def page_count(total: int, per_page: int) -> int:
    return math.ceil(total / per_page) if total else 0


def fetch_page(session: Session, stmt: Select, page: int, per_page: int, *, scalars: bool = True
               ) -> tuple[list[Any], int]:
    """Rows `(page - 1) * per_page` onwards of `stmt`, and how many rows it has in all (page and per_page are
    already bounded by the caller's schema: `core.fields.PageQuery`)."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    paged = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = session.scalars(paged).all() if scalars else session.execute(paged).all()
    return list(rows), total
