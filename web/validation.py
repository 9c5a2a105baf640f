"""Validation errors in words: each refused value as a sentence in the request's language that names the field
as the forms label it and says what is expected ("End date must be a date (YYYY-MM-DD)."), never pydantic's
own English ("Input should be a valid date…", "Value error, …"). The API keeps the field's path beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from core.i18n import N_

from .i18n import language

# Field names → the words the forms label them with (msgids the screens already use).
FIELD_LABELS: Mapping[str, str] = {
    "full_name": N_("Full name"), "name": N_("Name"), "email": N_("Email"), "phone": N_("Mobile"),
    "id_number": N_("ID / passport number"), "date_of_birth": N_("Date of birth"), "code": N_("Code"),
    "title": N_("Title"), "level": N_("NQF level"), "capacity": N_("Capacity"), "reason": N_("Reason"),
    "notes": N_("Notes"), "location": N_("Location"), "address": N_("Address"), "date": N_("Date"),
    "start_date": N_("Start date"), "end_date": N_("End date"), "from": N_("From"), "to": N_("To"),
    "period_start": N_("From"), "period_end": N_("To"), "start_time": N_("Start"), "end_time": N_("End"),
    "session_date": N_("Date"), "session_type": N_("Type"), "room_id": N_("Room"), "instructor_id": N_("Instructor"),
    "qualification_id": N_("Qualification"), "organization_id": N_("Organization"), "institution_id": N_("Institution"),
    "cohort_id": N_("Cohort"), "role": N_("Role"), "status": N_("Status"), "password": N_("Password"),
    "new_password": N_("New password"), "current_password": N_("Current password"), "slug": N_("Short name (slug)"),
    "time_zone": N_("Time zone"), "default_language": N_("Default language"), "language": N_("Language"),
    "accreditation_number": N_("Accreditation number"), "contact_name": N_("Contact name"),
    "contact_email": N_("Contact email"), "contact_phone": N_("Contact phone"),
    "expected_trainee_count": N_("Expected trainees"), "proposal_reference": N_("Proposal reference"),
    "request_reference": N_("Request reference"), "agency_name": N_("Your organization or agency"),
    "learner_ids": N_("Learners"), "user_ids": N_("Facilitators"), "cohort_ids": N_("Cohorts"),
    "expires_at": N_("Access ends"), "minutes_late": N_("Minutes late"), "excluded_dates": N_("Dates to skip"),
    "weekdays": N_("Weekdays"), "slots": N_("Slots"), "format": N_("Format"), "kind": N_("Kind"),
    "register_document_id": N_("Document"), "page": N_("Page"), "per_page": N_("Per page"), "q": N_("Search"),
    "records": N_("Marks"), "relock_after": N_("Re-lock after"), "active": N_("Active"),
}

# pydantic error type → a sentence with %(field)s (and the limit where there is one).
_MISSING = N_("%(field)s is required.")
_SENTENCES: Mapping[str, str] = {
    "missing": _MISSING,
    "string_too_long": N_("%(field)s is at most %(max_length)s characters long."),
    "too_long": N_("%(field)s holds at most %(max_length)s items."),
    "too_short": N_("%(field)s needs at least %(min_length)s items."),
    "less_than_equal": N_("%(field)s must be at most %(le)s."),
    "less_than": N_("%(field)s must be less than %(lt)s."),
    "greater_than_equal": N_("%(field)s must be at least %(ge)s."),
    "greater_than": N_("%(field)s must be more than %(gt)s."),
    "int_parsing": N_("%(field)s must be a whole number."), "int_type": N_("%(field)s must be a whole number."),
    "int_from_float": N_("%(field)s must be a whole number."),
    "float_parsing": N_("%(field)s must be a number."), "float_type": N_("%(field)s must be a number."),
    "decimal_parsing": N_("%(field)s must be a number."),
    "bool_parsing": N_("%(field)s must be yes or no."), "bool_type": N_("%(field)s must be yes or no."),
    "date_parsing": N_("%(field)s must be a date (YYYY-MM-DD)."),
    "date_type": N_("%(field)s must be a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("%(field)s must be a date (YYYY-MM-DD)."),
    "date_from_datetime_inexact": N_("%(field)s must be a date (YYYY-MM-DD)."),
    "time_parsing": N_("%(field)s must be a time (HH:MM)."), "time_type": N_("%(field)s must be a time (HH:MM)."),
    "datetime_parsing": N_("%(field)s must be a date and time (YYYY-MM-DDTHH:MM)."),
    "datetime_type": N_("%(field)s must be a date and time (YYYY-MM-DDTHH:MM)."),
    "datetime_from_date_parsing": N_("%(field)s must be a date and time (YYYY-MM-DDTHH:MM)."),
    "timezone_aware": N_("%(field)s must say its time zone offset (e.g. +02:00)."),
    "literal_error": N_("%(field)s must be one of: %(expected)s."),
    "enum": N_("%(field)s must be one of: %(expected)s."),
    "string_pattern_mismatch": N_("%(field)s is not written in the expected form."),
    "string_type": N_("%(field)s must be text."),
    "list_type": N_("%(field)s must be a list."), "dict_type": N_("%(field)s must be an object."),
    "model_type": N_("%(field)s must be an object."), "model_attributes_type": N_("%(field)s must be an object."),
    "extra_forbidden": N_("%(field)s is not a field of this request."),
    "value_error": N_("%(field)s is not acceptable."), "assertion_error": N_("%(field)s is not acceptable."),
}
_FALLBACK = N_("%(field)s is not acceptable.")
_WHOLE_REQUEST = N_("The request")


def field_label(loc: tuple[Any, ...]) -> str:
    """The words for a field: its form label when known ("End date"), else its name with spaces; a row of a
    list is numbered from 1 ("Marks, row 4: Status")."""
    names = [part for part in loc if isinstance(part, str) and part not in ("body", "query", "json", "form")]
    if not names:
        return gettext(_WHOLE_REQUEST)
    last = names[-1]
    label = gettext(FIELD_LABELS[last]) if last in FIELD_LABELS else last.replace("_", " ").capitalize()
    rows = [part for part in loc if isinstance(part, int)]
    if rows and len(names) > 1:
        return gettext("%(list)s, row %(row)s: %(field)s", list=field_label((names[0],)), row=rows[0] + 1,
                       field=label)
    return label


def _own_words(error: Mapping[str, Any]) -> str | None:
    """A validator's own sentence (raised as ValueError with a catalogue msgid), translated; None when it has
    no translation in a language other than English (then the generic sentence is shown)."""
    ctx = error.get("ctx") or {}
    raised = ctx.get("error")
    text = str(raised) if raised is not None else str(error.get("msg", "")).removeprefix("Value error, ")
    text = text.strip()
    if not text:
        return None
    translated = gettext(text)
    if translated == text and language() != "en":
        return None
    return translated[:1].upper() + translated[1:]


def sentence(error: Mapping[str, Any]) -> str:
    """One pydantic error (with its context) as a sentence in the request's language."""
    kind = str(error.get("type", ""))
    ctx = dict(error.get("ctx") or {})
    field = field_label(tuple(error.get("loc", ())))
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return (gettext(_MISSING, field=field) if minimum == 1 else
                gettext("%(field)s needs at least %(min_length)s characters.", field=field, min_length=minimum))
    if kind in ("value_error", "assertion_error"):
        own = _own_words(error)
        if own:
            return own if field == gettext(_WHOLE_REQUEST) else gettext("%(field)s: %(problem)s", field=field,
                                                                        problem=own)
    template = _SENTENCES.get(kind, _FALLBACK)
    values = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
    values.setdefault("expected", "")
    if isinstance(values.get("expected"), str):
        values["expected"] = values["expected"].replace("'", "")
    try:
        return gettext(template, field=field, **{k: v for k, v in values.items() if k != "field"})
    except (KeyError, ValueError, TypeError):
        return gettext(_FALLBACK, field=field)
