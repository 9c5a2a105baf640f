"""Records the law asks for: the register of processing (prefilled from what the product does, editable), the
institution's information officer, and the breach log with reminders at the country's deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.errors import ValidationError
from core.i18n import N_
from core.institutions.countries import breach_reminder_hours
from core.models import Breach, Cohort, CorporateTrainee, Enrolment, Institution, ProcessingRegister, User
from core.uow import unit_of_work

from .people import load_person

# What the product itself does with personal data: the register's starting point (an admin edits it).
DEFAULT_ENTRIES: list[dict[str, Any]] = [
    {"purpose": "Running training: enrolments, schedules and attendance registers",
     "data_categories": ["names", "ID numbers", "dates of birth", "emails", "mobile phones", "attendance marks",
                         "check-in times and network addresses"],
     "data_subjects": ["learners", "corporate trainees", "staff"],
     "recipients": ["the provider's staff", "regulators under an approved request",
                    "client organizations (reports naming their own employees, once granted)"],
     "transfers_abroad": "none by the platform",
     "retention": "registers and invoices 10 years; evidence 5 years after the cohort ends; import files 90 days",
     "security": ["private file storage", "argon2id passwords", "audited regulator and staff reads",
                  "role-based access per institution"]},
    {"purpose": "Absence evidence and apologies (health information)",
     "data_categories": ["sick notes", "reasons for absence"], "data_subjects": ["learners", "corporate trainees"],
     "recipients": ["the provider's admins and facilitators"], "transfers_abroad": "none by the platform",
     "retention": "5 years after the cohort ends", "security": ["private file storage", "files checked by content"]},
    {"purpose": "Invoicing corporate clients", "data_categories": ["attendance counts", "contact names and phones"],
     "data_subjects": ["client organizations' contacts"], "recipients": ["client organizations"],
     "transfers_abroad": "none by the platform", "retention": "10 years",
     "security": ["issued invoices immutable in the database"]},
]


def processing_register(session: Session, institution_id: int) -> dict[str, Any]:
    inst = session.get(Institution, institution_id)
    row = session.get(ProcessingRegister, institution_id)
    return {"entries": (row.entries or {}).get("items", []) if row is not None else DEFAULT_ENTRIES,
            "prefilled": row is None,
            "information_officer_name": inst.information_officer_name if inst else None,
            "information_officer_email": inst.information_officer_email if inst else None,
            "updated_at": row.updated_at.isoformat() if row is not None else None}


def save_processing_register(session: Session, actor: User, institution_id: int, entries: list[dict[str, Any]] | None,
                             officer: dict[str, str | None]) -> dict[str, Any]:
    with unit_of_work(session):
        if entries is not None:
            row = session.get(ProcessingRegister, institution_id, with_for_update=True)
            if row is None:
                row = ProcessingRegister(institution_id=institution_id, entries={"items": entries})
                session.add(row)
            row.entries, row.updated_by_id, row.updated_at = {"items": entries}, actor.id, clock.now()
        inst = session.get(Institution, institution_id)
        for name, value in officer.items():
            setattr(inst, name, value)
        audit.record(session, actor_id=actor.id, action="processing_register.update", entity_type="institution",
                     entity_id=institution_id, context={"entries": len(entries or []), "officer": bool(officer)})
    return processing_register(session, institution_id)


def _affected(session: Session, institution_id: int, cohort_ids: list[int], people: list[dict[str, Any]]
              ) -> dict[str, list[int]]:
    """The people an incident concerns: everyone in the cohorts it names, and each person it names."""
    found: dict[str, set[int]] = {"learners": set(), "trainees": set(), "users": set()}
    mine = list(session.scalars(select(Cohort.id).where(Cohort.id.in_(cohort_ids),
                                                        Cohort.institution_id == institution_id)))
    if unknown := sorted(set(cohort_ids) - set(mine)):
        raise ValidationError(N_("Unknown cohorts for this institution."), code="unknown_cohort",
                              details=[{"field": "cohort_ids", "message": f"No such cohort: {i}."} for i in unknown])
    if mine:
        found["learners"].update(session.scalars(select(Enrolment.learner_id).where(Enrolment.cohort_id.in_(mine))))
        found["trainees"].update(session.scalars(select(CorporateTrainee.id).where(
            CorporateTrainee.cohort_id.in_(mine))))
    for n, named in enumerate(people):
        person = load_person(session, named["kind"], named["id"])
        if person is None or person.institution_id != institution_id:
            raise ValidationError(N_("No such person at this institution."), code="unknown_person",
                                  details=[{"field": f"people[{n}]", "message": "No such person."}])
        found[named["kind"]].add(named["id"])
    return {kind: sorted(ids) for kind, ids in found.items()}


def record_breach(session: Session, actor: User, institution_id: int, values: dict[str, Any]) -> Breach:
    with unit_of_work(session):
        affected = _affected(session, institution_id, values.get("cohort_ids", []), values.get("people", []))
        breach = Breach(institution_id=institution_id, found_at=values["found_at"], description=values["description"],
                        data_categories={"items": values.get("data_categories", [])},
                        named={"cohort_ids": values.get("cohort_ids", []), "people": values.get("people", [])},
                        affected=affected, affected_count=sum(len(v) for v in affected.values()),
                        measures=values.get("measures"), notified_whom=values.get("notified_whom"),
                        notified_at=values.get("notified_at"), reminders_sent={"hours": []}, created_by_id=actor.id,
                        created_at=clock.now())
        session.add(breach)
        session.flush()
        audit.record(session, actor_id=actor.id, action="breach.record", entity_type="breach", entity_id=breach.id,
                     context={"affected": breach.affected_count})
    return breach


def deadlines(breach: Breach, country: str | None) -> list[dict[str, Any]]:
    sent = set((breach.reminders_sent or {}).get("hours", []))
    return [{"hours": h, "due_at": (breach.found_at + dt.timedelta(hours=h)).isoformat(), "reminded": h in sent}
            for h in breach_reminder_hours(country)]


def present_breach(breach: Breach, country: str | None) -> dict[str, Any]:
    return {"id": breach.id, "found_at": breach.found_at.isoformat(), "description": breach.description,
            "data_categories": (breach.data_categories or {}).get("items", []), "named": breach.named,
            "affected": breach.affected, "affected_count": breach.affected_count, "measures": breach.measures,
            "notified_whom": breach.notified_whom,
            "notified_at": breach.notified_at.isoformat() if breach.notified_at else None,
            "deadlines": deadlines(breach, country), "created_at": breach.created_at.isoformat()}


def breaches(session: Session, institution_id: int) -> list[Breach]:
    return list(session.scalars(select(Breach).where(Breach.institution_id == institution_id)
                                .order_by(Breach.found_at.desc(), Breach.id.desc())))


def due_reminders(session: Session) -> list[tuple[Breach, int, list[User]]]:
    """Reminders now due (a breach not yet notified, past one of its country's deadlines, not reminded for it),
    each marked sent in this transaction before its mail goes (never twice), with the admins to tell."""
    due: list[tuple[Breach, int, list[User]]] = []
    now = clock.now()
    with unit_of_work(session):
        rows = session.execute(select(Breach, Institution.country).join(
            Institution, Institution.id == Breach.institution_id).where(Breach.notified_at.is_(None))
            .with_for_update(of=Breach)).all()
        for breach, country in rows:
            sent = list((breach.reminders_sent or {}).get("hours", []))
            for hours in breach_reminder_hours(country):
                if hours not in sent and breach.found_at + dt.timedelta(hours=hours) <= now:
                    sent.append(hours)
                    admins = list(session.scalars(select(User).where(User.institution_id == breach.institution_id,
                                                                     User.role == "admin", User.active.is_(True))))
                    due.append((breach, hours, admins))
            breach.reminders_sent = {"hours": sent}
    return due


def processing_register_pdf(session: Session, institution_id: int, language: str, translations_dir: str | None
                            ) -> bytes:
    from pathlib import Path

    from core.i18n import direction
    from core.registers import pdf, render

    data = processing_register(session, institution_id)
    inst = session.get(Institution, institution_id)
    env = render._environment(translations_dir, language, (str(Path(__file__).parent / "templates"),))
    html = env.get_template("processing_register.html").render(
        language=language, direction=direction(language), institution=inst.name if inst else "",
        prepared_on=clock.now().date().isoformat(), entries=data["entries"],
        officer_name=data["information_officer_name"], officer_email=data["information_officer_email"])
    return pdf.html_to_pdf(html)
