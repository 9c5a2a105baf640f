"""Learners' apologies as staff see them (issue 21): the list, approve and decline (API), the file sent with one,
and the forms on the register screen. A learner's own apologies are on the me blueprint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from core.apologies import reads, service
from core.apologies.commands import ApologyQuery, DeclineApology
from core.errors import NotFound
from core.i18n import N_

from ..auth import requires, user
from ..contract import ErrorEnvelope, Page, contract, responds
from ..downloads import attachment
from ..extensions import db
from ..forms import form_command
from ..i18n import current_language
from ..me.schemas import ApologyOut
from ..pagination import page_of

bp = Blueprint("apologies", __name__)


def _out(view: reads.ApologyView) -> ApologyOut:
    return ApologyOut.model_validate(view, from_attributes=True, context={
        "evidence_base": url_for("apologies.api_file", evidence_id=0)[:-1]})


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


@bp.get("/api/institution/apologies")
@requires("apologies.decide")
@contract(query=ApologyQuery, resp=responds(HTTP_200=Page[ApologyOut]))
def api_list(query: ApologyQuery) -> Any:
    """Apologies for the sessions I may see (`?status=pending` for those to decide), oldest first."""
    found, total = reads.apologies_page(db.session, user(), query)
    return page_of(ApologyOut, [_out(a) for a in found], total, query.page, query.per_page)


@bp.post("/api/apologies/<int:apology_id>/approve")
@requires("apologies.decide")
@contract(resp=responds(HTTP_200=ApologyOut, HTTP_409=ErrorEnvelope, HTTP_423=ErrorEnvelope))
def api_approve(apology_id: int) -> Any:
    """Approve an apology: each of its sessions becomes EXCUSED for the learner, with its reason and file."""
    return _out(service.approve(db.session, user(), apology_id, grace_hours=_grace(), language=current_language()))


@bp.post("/api/apologies/<int:apology_id>/decline")
@requires("apologies.decide")
@contract(json=DeclineApology, resp=responds(HTTP_200=ApologyOut, HTTP_409=ErrorEnvelope))
def api_decline(apology_id: int, json: DeclineApology) -> Any:
    """Decline an apology with `{"reason"}`: no mark changes; the learner is mailed the reason."""
    return _out(service.decline(db.session, user(), apology_id, json))


@bp.get("/api/institution/apology-files/<int:evidence_id>")
@requires("apologies.decide")
@contract(resp=responds(HTTP_200=None))
def api_file(evidence_id: int) -> Any:
    """The file a learner sent with an apology I may decide."""
    found = reads.apology_file(db.session, user(), evidence_id)
    if found is None:
        raise NotFound(N_("No such file, or it is not one you can see."))
    return Response(current_app.extensions["storage"].iter_chunks(found.storage_key), mimetype=found.content_type,
                    headers={"Content-Disposition": attachment(found.original_filename),
                             "Content-Length": str(found.size_bytes), "Cache-Control": "private, no-store"})


# ---------------------------------------------------------------- screens (forms on the register)


def _back() -> Any:
    session_id = request.form.get("session_id", "")
    target = url_for("attendance.register", session_id=int(session_id)) if session_id.isdigit() and \
        len(session_id) < 10 else url_for("home.index")
    return redirect(target + "#apologies")


@bp.post("/institution/apologies/<int:apology_id>/approve")
@requires("apologies.decide")
def approve(apology_id: int) -> Any:
    service.approve(db.session, user(), apology_id, grace_hours=_grace(), language=current_language())
    flash(_("Apology approved: the learner is excused."), "success")
    return _back()


@bp.post("/institution/apologies/<int:apology_id>/decline")
@requires("apologies.decide")
def decline(apology_id: int) -> Any:
    service.decline(db.session, user(), apology_id, form_command(DeclineApology))
    flash(_("Apology declined: the learner is told why."), "success")
    return _back()
