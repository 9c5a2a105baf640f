"""The institution's cohorts (both kinds) with their progress, the cohort page, public cohorts, enrolments and
facilitators: screens and JSON API, on the cohorts blueprint."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core import clock
from core.access.scoping import can, visible_cohort
from core.cohorts import enrolments, public, reads, stats
from core.cohorts.commands import CohortListQuery, CreatePublicCohort, SetFacilitators, UpdateCohort
from core.models import (
    Cohort,
    CohortStatus,
    CohortType,
    ImportKind,
    Qualification,
    User,
)
from core.people import accounts
from core.people.commands import Enrol, EnrolmentQuery, InviteLearners, UpdateEnrolment, Withdraw

from ..auth import requires, user
from ..contract import Page, contract, responds
from ..extensions import db
from ..forms import form_command
from ..i18n import current_language
from ..pagination import query_page
from ..people.schemas import EnrolmentOut, EnrolResult, InvitationResult, present_enrolment
from . import bp
from .schemas import (
    CohortDetail,
    CohortItem,
    FacilitatorList,
    present_cohort_item,
    present_facilitator,
    present_member,
)

SESSIONS_PER_PAGE = 20


def _page_arg(name: str) -> int:
    """A page number from the query string: anything but a whole number from 1 up is page 1."""
    value = request.args.get(name, "")
    return min(int(value), 1_000_000) if value.isdigit() and int(value) >= 1 else 1


def cohort_page_data(query: CohortListQuery) -> dict[str, Any]:
    """A page of cohorts with their progress: a fixed number of queries whatever the page size."""
    page = query_page(stats.cohorts_query(user(), query, current_language()), query, lambda row: row, scalars=False)
    progress = stats.cohort_stats(db.session, [c.id for c, _q in page["items"]], clock.now())
    page["items"] = [present_cohort_item(c, q, progress[c.id]) for c, q in page["items"]]
    return page


def cohort_detail(cohort: Cohort) -> dict[str, Any]:
    qualification = db.session.get(Qualification, cohort.qualification_id) if cohort.qualification_id else None
    progress = stats.cohort_stats(db.session, [cohort.id], clock.now())[cohort.id]
    language = current_language()
    return {**present_cohort_item(cohort, qualification, progress), "attended": progress.rate.attended,
            "counted": progress.rate.counted, "required_rate": cohort.required_rate,
            "absence_limit": cohort.absence_limit,
            "facilitators": [present_facilitator(u) for u in public.facilitators(db.session, cohort, language)],
            "members": [present_member(m) for m in stats.member_rates(db.session, cohort, language)],
            "sessions_url": url_for("scheduling.cohort_sessions", cohort_id=cohort.id)}


def _facilitator_list(cohort: Cohort, users: list[User]) -> dict[str, Any]:
    return {"cohort_id": cohort.id, "items": [present_facilitator(u) for u in users]}


# ---------------------------------------------------------------- API


@bp.get("/api/institution/cohorts")
@requires("cohorts.view")
@contract(resp=responds(HTTP_200=Page[CohortItem]))
def api_cohort_list(query: CohortListQuery) -> Any:
    """Public and corporate cohorts with progress. Filters: type, status, q, qualification, facilitator."""
    return cohort_page_data(query)


@bp.post("/api/institution/cohorts")
@requires("cohorts.create")
@contract(resp=responds(HTTP_201=CohortDetail))
def api_cohort_create(json: CreatePublicCohort) -> Any:
    """Create a public cohort of a qualification."""
    return cohort_detail(public.create_public_cohort(db.session, user(), json)), 201


@bp.get("/api/institution/cohorts/<int:cohort_id>")
@requires("cohorts.view")
@contract(resp=responds(HTTP_200=CohortDetail))
def api_cohort_detail(cohort_id: int) -> Any:
    """One cohort, with its progress."""
    return cohort_detail(visible_cohort(db.session, user(), cohort_id, "cohorts.view"))


@bp.patch("/api/institution/cohorts/<int:cohort_id>")
@requires("cohorts.update")
@contract(resp=responds(HTTP_200=CohortDetail))
def api_cohort_update(cohort_id: int, json: UpdateCohort) -> Any:
    """Change a cohort's details or status (fields left out keep their value)."""
    return cohort_detail(public.update_cohort(db.session, user(), cohort_id, json))


@bp.get("/api/institution/cohorts/<int:cohort_id>/facilitators")
@requires("cohorts.view")
@contract(resp=responds(HTTP_200=FacilitatorList))
def api_facilitators(cohort_id: int) -> Any:
    """The facilitators assigned to a cohort."""
    cohort = visible_cohort(db.session, user(), cohort_id, "cohorts.view")
    return _facilitator_list(cohort, public.facilitators(db.session, cohort, current_language()))


@bp.put("/api/institution/cohorts/<int:cohort_id>/facilitators")
@requires("cohorts.update")
@contract(resp=responds(HTTP_200=FacilitatorList))
def api_set_facilitators(cohort_id: int, json: SetFacilitators) -> Any:
    """Replace a cohort's facilitators (active teachers of the institution)."""
    users = public.set_facilitators(db.session, user(), cohort_id, json, current_language())
    return _facilitator_list(visible_cohort(db.session, user(), cohort_id), users)


@bp.get("/api/institution/cohorts/<int:cohort_id>/enrolments")
@requires("learners.view")
@contract(resp=responds(HTTP_200=Page[EnrolmentOut]))
def api_enrolment_list(cohort_id: int, query: EnrolmentQuery) -> Any:
    """A public cohort's enrolments: learners, enrolled and withdrawn dates."""
    cohort = enrolments.public_cohort(db.session, user(), cohort_id, "learners.view")
    return query_page(enrolments.enrolments_query(cohort.id, query.status, current_language()), query,
                   lambda row: present_enrolment(row[0], row[1].full_name), scalars=False)


@bp.post("/api/institution/cohorts/<int:cohort_id>/enrolments")
@requires("learners.manage")
@contract(resp=responds(HTTP_200=EnrolResult))
def api_enrol(cohort_id: int, json: Enrol) -> Any:
    """`{"learner_ids": [...], "id_numbers": [...], "enrolled_on": "YYYY-MM-DD"}`: answers which were enrolled,
    which already were, and which ID numbers no learner has."""
    outcome = enrolments.enrol(db.session, user(), cohort_id, json)
    return {"enrolled": [present_enrolment(e) for e in outcome.enrolled],
            "already_enrolled": [present_enrolment(e) for e in outcome.already],
            "unknown_id_numbers": outcome.unknown_id_numbers}


@bp.patch("/api/enrolments/<int:enrolment_id>")
@requires("learners.manage")
@contract(resp=responds(HTTP_200=EnrolmentOut))
def api_enrolment_update(enrolment_id: int, json: UpdateEnrolment) -> Any:
    """`{"enrolled_on"}`: rates count every session on or after it."""
    return present_enrolment(enrolments.update_enrolment(db.session, user(), enrolment_id, json))


@bp.post("/api/enrolments/<int:enrolment_id>/withdraw")
@requires("learners.manage")
@contract(resp=responds(HTTP_200=EnrolmentOut))
def api_withdraw(enrolment_id: int, json: Withdraw) -> Any:
    """`{"date", "reason"}`: the learner leaves registers from that date; earlier ones keep them."""
    return present_enrolment(enrolments.withdraw(db.session, user(), enrolment_id, json))


@bp.post("/api/institution/cohorts/<int:cohort_id>/invitations")
@requires("learners.invite")
@contract(resp=responds(HTTP_200=InvitationResult))
def api_invite_learners(cohort_id: int, json: InviteLearners) -> Any:
    """Invite learners to their own account

    `{"learner_ids": [...]}` (learners of a public cohort, trainees of a corporate one) or `{"all": true}`
    (everyone with an email address): each is mailed a single-use link to choose a password, in their language.
    One person in several cohorts has one account."""
    outcome = accounts.invite_learners(db.session, user(), cohort_id, json)
    return {"invited": outcome.invited, "skipped": outcome.skipped}


# ---------------------------------------------------------------- screens


@bp.get("/institution/attendance/cohorts")
@requires("cohorts.view")
def cohort_list() -> Any:
    args = {k: v for k, v in request.args.items() if v.strip()}
    query = CohortListQuery.model_validate({"per_page": 25, **args})
    qualifications = reads.qualifications(db.session, user().institution_id, current_language(), active_only=True)
    return render_template("cohorts/cohort_list.html", page=cohort_page_data(query), query=query,
                           statuses=list(CohortStatus), qualifications=qualifications)


@bp.post("/institution/attendance/cohorts")
@requires("cohorts.create")
def cohort_create() -> Any:
    cohort = public.create_public_cohort(db.session, user(), form_command(CreatePublicCohort))
    flash(_("Cohort “%(name)s” created. Next: enrol learners and assign a facilitator.", name=cohort.name),
          "success")
    return redirect(url_for("cohorts.cohort_page", cohort_id=cohort.id))


@bp.get("/institution/attendance/cohorts/<int:cohort_id>")
@requires("cohorts.view")
def cohort_page(cohort_id: int) -> Any:
    cohort = visible_cohort(db.session, user(), cohort_id, "cohorts.view")
    detail = cohort_detail(cohort)
    upcoming, past = reads.upcoming_and_past(
        db.session, cohort.id, clock.now(), upcoming_page=_page_arg("upcoming_page"), past_page=_page_arg("past_page"),
        per_page=SESSIONS_PER_PAGE, grace_hours=int(current_app.config["LOCK_GRACE_HOURS"]))
    kind = ImportKind.TRAINEES if cohort.cohort_type == CohortType.CORPORATE else ImportKind.LEARNERS
    imports = reads.recent_imports(db.session, cohort.id, kind)
    enrolled = []
    if cohort.cohort_type == CohortType.PUBLIC and can(db.session, user(), "learners.view"):
        enrolled = db.session.execute(enrolments.enrolments_query(cohort.id, language=current_language())).all()
    teachers = []
    if can(db.session, user(), "cohorts.update"):
        teachers = reads.active_teachers(db.session, cohort.institution_id, current_language())
    qualifications = reads.qualifications(db.session, cohort.institution_id, current_language())
    return render_template("cohorts/cohort_page.html", cohort=cohort, detail=detail, upcoming=upcoming, past=past,
                           imports=imports, enrolled=enrolled, teachers=teachers, now=clock.now(),
                           facilitator_ids={f["id"] for f in detail["facilitators"]},
                           transitions=public.STATUS_TRANSITIONS[cohort.status], qualifications=qualifications)


@bp.post("/institution/attendance/cohorts/<int:cohort_id>/edit")
@requires("cohorts.update")
def cohort_edit(cohort_id: int) -> Any:
    public.update_cohort(db.session, user(), cohort_id, form_command(UpdateCohort))
    flash(_("Cohort saved."), "success")
    return redirect(url_for("cohorts.cohort_page", cohort_id=cohort_id))


@bp.post("/institution/attendance/cohorts/<int:cohort_id>/facilitators")
@requires("cohorts.update")
def cohort_facilitators(cohort_id: int) -> Any:
    public.set_facilitators(db.session, user(), cohort_id, form_command(SetFacilitators))
    flash(_("Facilitators saved."), "success")
    return redirect(url_for("cohorts.cohort_page", cohort_id=cohort_id) + "#facilitators")


@bp.post("/institution/attendance/cohorts/<int:cohort_id>/enrolments")
@requires("learners.manage")
def cohort_enrol(cohort_id: int) -> Any:
    outcome = enrolments.enrol(db.session, user(), cohort_id, form_command(Enrol))
    flash(_("%(new)d enrolled, %(old)d already enrolled.", new=len(outcome.enrolled), old=len(outcome.already)),
          "success")
    if outcome.unknown_id_numbers:
        flash(_("No learner has these ID numbers: %(numbers)s. Add them under Learners first.",
                numbers=", ".join(outcome.unknown_id_numbers)), "warning")
    return redirect(url_for("cohorts.cohort_page", cohort_id=cohort_id) + "#learners")


@bp.post("/institution/attendance/cohorts/<int:cohort_id>/invitations")
@requires("learners.invite")
def cohort_invite(cohort_id: int) -> Any:
    outcome = accounts.invite_learners(db.session, user(), cohort_id, form_command(InviteLearners))
    flash(_("%(invited)d invited to their own account; %(skipped)d not invited (no email address, or already "
            "signed up).", invited=len(outcome.invited), skipped=len(outcome.skipped)), "success")
    return redirect(url_for("cohorts.cohort_page", cohort_id=cohort_id) + "#learners")


@bp.post("/institution/enrolments/<int:enrolment_id>/date")
@requires("learners.manage")
def enrolment_date(enrolment_id: int) -> Any:
    enrolment = enrolments.update_enrolment(db.session, user(), enrolment_id, form_command(UpdateEnrolment))
    flash(_("Enrolled from %(date)s: sessions from that date count.", date=enrolment.enrolled_on.isoformat()),
          "success")
    return redirect(url_for("cohorts.cohort_page", cohort_id=enrolment.cohort_id) + "#learners")


@bp.post("/institution/enrolments/<int:enrolment_id>/withdraw")
@requires("learners.manage")
def enrolment_withdraw(enrolment_id: int) -> Any:
    enrolment = enrolments.withdraw(db.session, user(), enrolment_id, form_command(Withdraw))
    flash(_("Withdrawn from %(date)s.", date=enrolment.withdrawn_on.isoformat() if enrolment.withdrawn_on else ""),
          "success")
    return redirect(url_for("cohorts.cohort_page", cohort_id=enrolment.cohort_id) + "#learners")
