"""The audit trail's operator command (`flask --app web audit verify`)."""
