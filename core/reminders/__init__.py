"""Nightly mails: unmarked-register reminders to facilitators and at-risk digests to cohort admins."""
