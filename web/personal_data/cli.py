"""The retention run by hand: `flask --app web personal-data apply-retention` (the same service beat runs
nightly at RETENTION_RUN_AT). Prints counts removed, never the data."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.personal_data import retention

from ..extensions import db

personal_data_cli = AppGroup("personal-data", help="Personal data: the retention run.")


@personal_data_cli.command("apply-retention")
@click.option("--batch", type=click.IntRange(1, 100_000), default=retention.BATCH, show_default=True,
              help="Rows per short transaction.")
def apply_retention(batch: int) -> None:
    """Apply every institution's retention policy in batches (safe to run twice; resumes after a crash)."""
    report = retention.apply_all(db.session, current_app.extensions["storage"], batch=batch)
    for institution_id, counts in report.items():
        click.echo(f"Institution {institution_id}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def add_commands(app: Flask) -> None:
    app.cli.add_command(personal_data_cli)
