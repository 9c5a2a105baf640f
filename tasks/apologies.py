"""Celery task for apologies: mail the learner the decision, in their language (flask_babel `force_locale`)."""

from __future__ import annotations

from flask_babel import force_locale, format_date, gettext

from core.apologies import service
from core.apologies.jobs import DECISION_MAIL
from core.apologies.service import DecisionMail
from tasks import db_session, mail_settings
from tasks.policy import job_task


def decision_words(mail: DecisionMail) -> tuple[str, str]:
    with force_locale(mail.language):
        sessions = "\n".join(f"- {s.cohort_name}, {format_date(s.date, 'full')} {s.start_time:%H:%M}"
                             for s in mail.apology.sessions)
        if mail.apology.status == "approved":
            subject = gettext("Your apology was accepted")
            lines = [gettext("Your apology for these sessions was accepted: they are recorded as excused.")]
        else:
            subject = gettext("Your apology was declined")
            lines = [gettext("Your apology for these sessions was declined, for this reason:"),
                     mail.apology.decision_reason or ""]
        return subject, "\n\n".join([gettext("Hello %(name)s,", name=mail.name), *lines, sessions]) + "\n"


# SMTP and database trouble are retried with backoff, as the kind declares (core/apologies/jobs.py).
@job_task(DECISION_MAIL)
def send_apology_decision(apology_id: int) -> bool:
    return service.send_decision_mail(db_session(), mail_settings(), apology_id, decision_words)
