"""`flask --app web audit verify [--institution SLUG]`: walk the audit chains and name the first row that does
not hold in each; exit code 1 on a break (2 for an unknown institution)."""

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
def verify(slug: str | None) -> None:
    """Check every audit chain (or one institution's) from its first row; report the first break."""
    institution_id = None
    if slug is not None:
        inst = trail.institution_by_slug(db.session, slug)
        if inst is None:
            raise click.ClickException(f"No institution with slug {slug!r}.")
        institution_id = inst.id
    started = time.perf_counter()
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
