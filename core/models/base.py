"""Declarative base and column helpers shared by every model module."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Index, MetaData, TypeDecorator, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core import clock

# Stable constraint names so that migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL, JSON text elsewhere (SQLite in the embedded default).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    """Row timestamps read the one clock, so a mark's time and its session's agree under a pinned clock."""
    return clock.now()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """`timestamptz` on PostgreSQL; on SQLite (no time zones) stored as UTC and read back aware.

    Every datetime the models hand out is timezone-aware UTC, whatever the backend, so no caller
    ever compares naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware values")
        return value.astimezone(dt.UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSONType}


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


def name_fold_index(name: str, column: Any) -> Index:
    """A trigram index on `names_fold(column)` (PostgreSQL only, migration 0013): accent- and case-free name
    search (core.collation.name_matches) on a list that grows to thousands, answered from the index."""
    return Index(name, func.names_fold(column).label("name_fold"), postgresql_using="gin",
                 postgresql_ops={"name_fold": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
