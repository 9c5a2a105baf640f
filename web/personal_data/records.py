"""The records the law asks for (issue 25): the register of processing (JSON and PDF) with the institution's
information officer, and the breach log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, current_app

from core.institutions.service import own_institution
from core.models import Institution
from core.personal_data import records
from core.personal_data.commands import RecordBreach, SaveProcessingRegister

from ..auth import requires, user
from ..contract import Page, contract, responds
from ..downloads import attachment
from ..extensions import db
from ..i18n import current_language
from . import bp
from .schemas import BreachOut, ProcessingRegisterOut


def _country(institution_id: int) -> str | None:
    inst = db.session.get(Institution, institution_id)
    return inst.country if inst else None


@bp.get("/api/institution/processing-register")
@requires("personal_data.records")
@contract(resp=responds(HTTP_200=ProcessingRegisterOut))
def api_processing_register() -> Any:
    """The register of processing (prefilled from what the platform does until saved) and the officer."""
    return records.processing_register(db.session, own_institution(user()))


@bp.put("/api/institution/processing-register")
@requires("personal_data.records")
@contract(resp=responds(HTTP_200=ProcessingRegisterOut))
def api_processing_register_save(json: SaveProcessingRegister) -> Any:
    """Replace the register's entries and/or name the information officer (keys left out keep their value)."""
    entries = [e.model_dump() for e in json.entries] if json.entries is not None else None
    officer = json.model_dump(include={"information_officer_name", "information_officer_email"}, exclude_unset=True)
    return records.save_processing_register(db.session, user(), own_institution(user()), entries, officer)


@bp.get("/api/institution/processing-register.pdf")
@requires("personal_data.records")
@contract(resp=responds(HTTP_200=None))
def api_processing_register_pdf() -> Any:
    """The register of processing as a PDF, in the reader's language."""
    translations = str(Path(current_app.root_path) / "translations")
    data = records.processing_register_pdf(db.session, own_institution(user()), current_language(), translations)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": attachment("processing-register.pdf")})


@bp.get("/api/institution/breaches")
@requires("personal_data.records")
@contract(resp=responds(HTTP_200=Page[BreachOut]))
def api_breaches() -> Any:
    """The breach log, newest first, each with its reminder deadlines (72 hours; 5 days in Algeria)."""
    institution_id = own_institution(user())
    items = [records.present_breach(b, _country(institution_id)) for b in records.breaches(db.session, institution_id)]
    return {"items": items, "page": 1, "per_page": max(len(items), 1), "total": len(items), "pages": 1 if items else 0}


@bp.post("/api/institution/breaches")
@requires("personal_data.records")
@contract(resp=responds(HTTP_201=BreachOut))
def api_breach_record(json: RecordBreach) -> Any:
    """Record an incident: when found, what, whose data (cohorts and people it names: the affected people are
    derived from them), measures, whom you notified and when."""
    institution_id = own_institution(user())
    breach = records.record_breach(db.session, user(), institution_id, json.model_dump())
    return records.present_breach(breach, _country(institution_id)), 201
