"""Nightly jobs by hand: `flask --app web attendance lock-past`, `flask --app web attendance absent-at-close`
(self check-in: unmarked at close), `flask --app web reminders send-unmarked`,
`flask --app web reminders send-at-risk`. Each runs the same service the beat-scheduled task runs."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.at_risk import service as at_risk
from core.attendance.locking import lock_past_sessions
from core.checkin.service import mark_unmarked_at_close
from core.mail import MailSettings
from core.reminders import service as reminders
from tasks import translations_dir

from ..extensions import db

attendance_cli = AppGroup("attendance", help="Attendance jobs (the nightly lock).")
reminders_cli = AppGroup("reminders", help="Reminder mails (unmarked registers, at-risk digests).")


def _mail() -> MailSettings:
    c = current_app.config
    return MailSettings(backend=c["MAIL_BACKEND"], host=c["MAIL_HOST"], port=c["MAIL_PORT"],
                        username=c["MAIL_USERNAME"], password=c["MAIL_PASSWORD"], use_tls=c["MAIL_USE_TLS"],
                        use_ssl=c["MAIL_USE_SSL"], sender=c["MAIL_FROM"], file_dir=c["MAIL_FILE_DIR"])


@attendance_cli.command("lock-past")
@click.option("--grace-hours", type=int, default=None, help="Defaults to LOCK_GRACE_HOURS.")
def lock_past(grace_hours: int | None) -> None:
    """Lock every session whose local day ended more than the grace period ago."""
    hours = grace_hours if grace_hours is not None else int(current_app.config["LOCK_GRACE_HOURS"])
    ids = lock_past_sessions(db.session, grace_hours=hours)
    click.echo(f"Locked {len(ids)} session(s).")


@attendance_cli.command("absent-at-close")
def absent_at_close() -> None:
    """Check-ins closed and not handled yet: unmarked learners ABSENT (source auto) where the institution asks."""
    report = mark_unmarked_at_close(db.session, grace_hours=int(current_app.config["LOCK_GRACE_HOURS"]))
    click.echo(f"Closed check-ins handled: {report['windows']}; marked absent: {report['marked_absent']}.")


@reminders_cli.command("send-unmarked")
def send_unmarked() -> None:
    """Mail each facilitator the ended, unlocked registers they have not fully marked (once per session)."""
    report = reminders.send_unmarked_reminders(db.session, _mail(), current_app.config["BASE_URL"],
                                               grace_hours=int(current_app.config["LOCK_GRACE_HOURS"]),
                                               translations=translations_dir())
    click.echo(f"Reminders: {len(report.sent)} mail(s) sent, {len(report.failed)} failed.")
    if report.failed:
        raise SystemExit(1)


@reminders_cli.command("send-at-risk")
def send_at_risk() -> None:
    """Mail cohort admins the trainees who crossed into "at risk" since the last run."""
    c = current_app.config
    report = reminders.send_at_risk_digests(db.session, _mail(), threshold=float(c["AT_RISK_THRESHOLD"]),
                                            consecutive=int(c["AT_RISK_CONSECUTIVE_MISSES"]),
                                            translations=translations_dir())
    click.echo(f"At-risk digests: {len(report.sent)} mail(s) sent, {len(report.failed)} failed.")
    if report.failed:
        raise SystemExit(1)


@reminders_cli.command("at-risk-levels")
@click.option("--no-mail", is_flag=True, help="Recompute the levels only; send no warning.")
def at_risk_levels(no_mail: bool) -> None:
    """Recompute every active trainee's at-risk level (the nightly job), then send the warnings owed."""
    counts = at_risk.recompute(db.session)
    click.echo(f"At-risk levels: {counts.trainees} trainee(s), {counts.changes} change(s).")
    if no_mail:
        return
    report = at_risk.warn(db.session, _mail(), translations=translations_dir())
    click.echo(f"At-risk warnings: {len(report.sent)} mail(s) sent, {len(report.failed)} failed.")
    if report.failed:
        raise SystemExit(1)


def add_commands(app: Flask) -> None:
    app.cli.add_command(attendance_cli)
    app.cli.add_command(reminders_cli)
