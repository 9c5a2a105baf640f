"""`flask --app web institutions seal`: show an institution's seal, upload a PKCS#12 in its place, or make a new
one. The PKCS#12's password is prompted for (hidden), or given with --password / SEAL_P12_PASSWORD where there is
no terminal; it is never echoed or logged."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from core.errors import DomainError
from core.institutions import service as institution_service
from core.models import Institution
from core.seals import certificates
from core.seals import service as seals

from ..extensions import db


@click.command("seal")
@with_appcontext
@click.option("--institution", "institution", required=True, help="Institution slug or id")
@click.option("--upload", "upload", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A password-protected PKCS#12 (.p12/.pfx) holding the seal's certificate and private key")
@click.option("--password", envvar="SEAL_P12_PASSWORD", default=None,
              help="The PKCS#12's password (else SEAL_P12_PASSWORD, else prompted)")
@click.option("--generate", is_flag=True, help="Replace the seal in force by a newly generated one")
def seal_command(institution: str, upload: Path | None, password: str | None, generate: bool) -> None:
    """Show, upload or regenerate an institution's document seal (replaced seals are kept: what they sealed
    still verifies)."""
    inst = institution_service.find_by(db.session, Institution, "slug", institution)
    if inst is None:
        raise click.ClickException(f"No institution {institution!r}.")
    if upload is not None and generate:
        raise click.UsageError("Give --upload or --generate, not both.")
    try:
        if upload is not None:
            if not password:  # none given (an empty SEAL_P12_PASSWORD counts as none)
                if not sys.stdin.isatty():
                    raise click.ClickException("No terminal to ask for the password: give --password or set "
                                               "SEAL_P12_PASSWORD.")
                password = click.prompt("PKCS#12 password", hide_input=True)
            seal = seals.upload(db.session, None, inst.id, upload.read_bytes(), password or "")
            click.echo(f"Uploaded seal in force for {inst.slug}.")
        elif generate:
            seal = seals.regenerate(db.session, None, inst.id)
            click.echo(f"New seal in force for {inst.slug}.")
        else:
            seal = seals.ensure_seal(db.session, inst.id)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Subject:     {seal.subject}")
    click.echo(f"Fingerprint: {certificates.spaced(seal.fingerprint)} (SHA-256)")
    click.echo(f"Valid:       {seal.not_before:%Y-%m-%d} to {seal.not_after:%Y-%m-%d} ({seal.source})")
