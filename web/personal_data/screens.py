"""Personal-data screens: the retention settings and runs, a person's export and erasure from their page, and a
learner's own export from /me. Each answers with a flash and goes back; the export's status page is the API's."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.institutions.service import own_institution
from core.personal_data import erasure, exports, policy
from core.personal_data.commands import Erase, RetentionSettings
from core.personal_data.people import Person, visible_person
from core.personal_data.reads import recent_retention_runs

from ..auth import requires, user
from ..extensions import db
from ..forms import form_command
from ..i18n import current_language
from . import bp

FIELDS = [("import_files_days", _l("Import files: days after commit")),
          ("error_reports_days", _l("Import rows and error reports: days")),
          ("evidence_years", _l("Evidence: years after the cohort ends")),
          ("registers_years", _l("Submitted registers: years")),
          ("invoices_years", _l("Invoices: years"))]


@bp.get("/admin/personal-data")
@requires("personal_data.records")
def retention_screen() -> Any:
    institution_id = own_institution(user())
    runs = recent_retention_runs(db.session, institution_id)
    return render_template("personal_data/retention.html", fields=FIELDS, runs=list(runs),
                           policy=policy.policy_of(db.session, institution_id).as_dict())


@bp.post("/admin/personal-data/retention")
@requires("personal_data.records")
def retention_save() -> Any:
    policy.set_policy(db.session, user(), own_institution(user()),
                      form_command(RetentionSettings).model_dump(exclude_none=True))
    flash(_("Saved."), "success")
    return redirect(url_for("personal_data.retention_screen"))


def export_started(person: Person) -> None:
    export = exports.request_export(db.session, user(), person, current_language())
    flash(_("The export is being prepared. It will be at %(url)s for 7 days.",
            url=url_for("personal_data.api_export_download", export_id=export.id)), "success")


@bp.post("/admin/people/<any(learners, trainees, users):kind>/<int:person_id>/data-export")
@requires("personal_data.export")
def person_export(kind: str, person_id: int) -> Any:
    export_started(visible_person(db.session, user(), kind, person_id))
    return redirect(request.referrer or url_for("people.learner_list"))


@bp.post("/admin/people/<any(learners, trainees, users):kind>/<int:person_id>/erasure")
@requires("personal_data.erase")
def person_erase(kind: str, person_id: int) -> Any:
    command = form_command(Erase)
    done, _now = erasure.erase(db.session, user(), kind, person_id, command.reason, command.password)
    held = len((done.held or {}).get("items", []))
    flash(_("Erased: now %(pseudonym)s. Documents kept under a legal hold: %(held)s.", pseudonym=done.pseudonym,
            held=held), "success")
    return redirect(request.referrer or url_for("people.learner_list"))
