"""Reads for the import screens and API: a cohort's imports, an import's row results, who uploaded them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.models import TraineeImport, TraineeImportRow, User


def cohort_imports(cohort_id: int) -> Select:
    """A cohort's imports, newest first."""
    return (select(TraineeImport).where(TraineeImport.cohort_id == cohort_id)
            .order_by(TraineeImport.created_at.desc(), TraineeImport.id.desc()))


def import_rows(import_id: int, ok: bool | None = None) -> Select:
    """An import's row results in file order; only the valid (or refused) ones when `ok` says so."""
    stmt = select(TraineeImportRow).where(TraineeImportRow.import_id == import_id)
    if ok is not None:
        stmt = stmt.where(TraineeImportRow.ok.is_(ok))
    return stmt.order_by(TraineeImportRow.row_number)


def uploaders(session: Session, imports: Iterable[TraineeImport]) -> dict[int, User]:
    ids = {i.uploaded_by_id for i in imports if i.uploaded_by_id}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
