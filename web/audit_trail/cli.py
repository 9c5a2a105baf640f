"""`flask --app web audit verify [--institution SLUG | --submission ID]`: walk the audit chains (or one
submission's, up to the head it recorded) and name the first row that does not hold in each; exit code 1 on a
break."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup

from core.audit_trail import verify as trail

from ..extensions import db

audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


@audit_cli.command("verify")
@click.option("--institution", "slug", default=None, help="Only this institution's chain (its slug).")
@click.option("--submission", "submission_id", type=int, default=None,
              help="Only the chain of this submission, up to the head it recorded.")
def verify(slug: str | None, submission_id: int | None) -> None:
    """Check every audit chain (or one institution's) from its first row; report the first break."""
    started = time.perf_counter()
    if submission_id is not None:
        found = trail.verify_submission(db.session, submission_id)
        if found is None:
            raise click.ClickException(f"No submission {submission_id} with a recorded chain head.")
        reports = [found]
    else:
        institution_id = None
        if slug is not None:
            inst = trail.institution_by_slug(db.session, slug)
            if inst is None:
                raise click.ClickException(f"No institution with slug {slug!r}.")
            institution_id = inst.id
        reports = trail.verify(db.session, institution_id)
    seconds = time.perf_counter() - started
    for report in reports:
        name = f"institution {report.institution_id}" if report.institution_id else "platform (no institution)"
        if report.broken is None:
            click.echo(f"{name}: {report.rows} row(s), unbroken (head seq {report.last_seq}, "
                       f"hash {report.last_hash.hex()}).")
            continue
        b = report.broken
        where = f"row id {b.row_id} (seq {b.seq})" if b.row_id is not None else f"seq {b.seq}"
        click.echo(f"{name}: BROKEN at {where}: {b.reason}: {b.detail}. {report.rows} row(s) before it hold.")
    rows = sum(r.rows for r in reports)
    click.echo(f"Checked {rows} row(s) in {len(reports)} chain(s) in {seconds:.2f} s.")
    if any(not r.ok for r in reports):
        raise SystemExit(1)


def add_commands(app: Flask) -> None:
    app.cli.add_command(audit_cli)
