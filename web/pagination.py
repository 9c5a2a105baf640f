"""The list envelope every API list returns: items, page, per_page, total, pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from sqlalchemy import Select

from core.errors import ValidationError
from core.fields import MAX_PAGE, MAX_PER_PAGE, PageQuery
from core.i18n import N_
from core.pagination import fetch_page, page_count

from .contract import Page
from .extensions import db

T = TypeVar("T")


def page_args(default_per_page: int = 50) -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default_per_page))
    except ValueError:
        raise ValidationError(N_("page and per_page must be whole numbers."), code="invalid_paging") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(N_("page must be between 1 and %(max_page)s, per_page between 1 and %(max_per_page)s."),
                              code="invalid_paging", params={"max_page": MAX_PAGE, "max_per_page": MAX_PER_PAGE})
    return page, per_page


def paginate(stmt: Select, serialize: Callable[[Any], Any], default_per_page: int = 50,
             scalars: bool = True, query: PageQuery | None = None) -> dict[str, Any]:
    """One page of `stmt`; `query` is the view's parsed PageQuery (else page and per_page are read here)."""
    page, per_page = (query.page, query.per_page) if query is not None else page_args(default_per_page)
    rows, total = fetch_page(db.session, stmt, page, per_page, scalars=scalars)
    return {"items": [serialize(r) for r in rows], "page": page, "per_page": per_page, "total": total,
            "pages": page_count(total, per_page)}


def pages(total: int, per_page: int) -> int:
    return page_count(total, per_page)


def page_of(model: type[T], items: list[T], total: int, page: int, per_page: int) -> Page[T]:
    """The list envelope, typed, for items a service already paged (a `core.fields.PageQuery`'s page).
    A view returns it as is: spectree serializes it without walking it again."""
    return Page[model](items=items, page=page, per_page=per_page, total=total,  # type: ignore[valid-type]
                       pages=page_count(total, per_page))


def query_page(stmt: Select, query: Any, serialize: Callable[[Any], Any], scalars: bool = True) -> dict[str, Any]:
    """The list envelope for a declared `PageQuery` (already bounded by its schema)."""
    return paginate(stmt, serialize, scalars=scalars, query=query)
