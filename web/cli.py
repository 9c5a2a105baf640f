"""Operator commands: `flask --app web demo-data`, `flask --app web users create …`, and the nightly jobs."""

from __future__ import annotations

import smtplib
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from pydantic import ValidationError as PydanticValidationError

from core.access import auth as auth_service
from core.access.commands import CreateApiToken
from core.demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
from core.errors import DomainError
from core.institutions import service as institution_service
from core.institutions.commands import CreateInstitution
from core.models import Institution, Organization, User
from core.people import resets
from tasks import mail_settings, setting
from tasks.people import welcome_words

from .attendance.cli import add_commands as add_attendance_commands
from .audit_trail.cli import add_commands as add_audit_commands
from .extensions import db
from .personal_data.cli import add_commands as add_personal_data_commands
from .seals.cli import seal_command

users_cli = AppGroup("users", help="Create users and API tokens.")
institutions_cli = AppGroup("institutions", help="Create and list institutions (training providers).")


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, help="super_admin, admin, support, teacher, org_member or regulator")
@click.option("--name", "full_name", default=None)
@click.option("--institution", default=None, help="Institution slug or id")
@click.option("--organization", default=None, help="Organization name or id (org members)")
@click.option("--password", default=None, help="Prompted for when omitted and stdin is a terminal")
@click.option("--invite", is_flag=True, help="Mail the person a link to choose their password (no --password)")
def create_user(email: str, role: str, full_name: str | None, institution: str | None,
                organization: str | None, password: str | None, invite: bool) -> None:
    """Create a user: the way the first admin of a real install is made."""
    if password is not None and invite:
        raise click.UsageError("Give either --password or --invite, not both.")
    if password is None and not invite:
        if not sys.stdin.isatty():
            raise click.UsageError("No password: there is no terminal to ask for one. Pass --password PASSWORD, "
                                   "or --invite to mail the person a link to choose it.")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    inst_id = _lookup(Institution, institution, "slug") if institution else None
    org_id = _lookup(Organization, organization, "name") if organization else None
    try:
        created = auth_service.create_user(db.session, email=email, role=role, full_name=full_name,
                                           password=password, institution_id=inst_id, organization_id=org_id)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created {created.email} ({created.role.value}), id {created.id}.")
    if invite:
        _mail_welcome(created.id, created.email)


def _mail_welcome(user_id: int, email: str) -> None:
    """Send the welcome link now (the operator sees at once whether the mail left)."""
    try:
        resets.send_password_mail(db.session, mail_settings(), setting("SECRET_KEY"), setting("BASE_URL"), user_id,
                                  welcome_words)
    except (smtplib.SMTPException, OSError) as exc:
        raise click.ClickException(f"The account exists but the mail was not sent ({exc}). Send a link from "
                                   "Staff → the person → Send a password reset link.") from None
    click.echo(f"A link to choose a password was mailed to {email}.")


@users_cli.command("create-token")
@click.option("--email", required=True)
@click.option("--name", default="CLI token")
def create_token(email: str, name: str) -> None:
    """Print a new API token for the user (shown once; only its hash is stored)."""
    found = institution_service.find_by(db.session, User, "email", email.strip().lower())
    if found is None:
        raise click.ClickException(f"No user with email {email}.")
    try:
        click.echo(auth_service.create_api_token(db.session, found, CreateApiToken(name=name)))
    except PydanticValidationError as exc:
        raise click.ClickException(f"--name: {exc.errors()[0]['msg']}") from None


@institutions_cli.command("create")
@click.option("--name", required=True)
@click.option("--slug", required=True, help="Short name used on the command line, e.g. cape-skills")
@click.option("--time-zone", "time_zone", required=True, help="IANA time zone, e.g. Africa/Johannesburg")
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 (ZA, DZ…); default: the time zone's country")
@click.option("--language", "default_language", default="en", show_default=True, help="en, fr or ar")
@click.option("--accreditation-number", default=None, help="e.g. a QCTO or ministry provider number")
def create_institution(name: str, slug: str, time_zone: str, country: str | None, default_language: str,
                       accreditation_number: str | None) -> None:
    """Create an institution: the first step of a fresh install."""
    try:
        command = CreateInstitution(name=name, slug=slug, time_zone=time_zone, country=country,
                                    default_language=default_language,
                                    accreditation_number=accreditation_number)
        inst = institution_service.create_institution(db.session, None, command)
    except PydanticValidationError as exc:
        raise click.ClickException("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                             for e in exc.errors())) from None
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created institution {inst.slug} ({inst.name}, {inst.time_zone}, {inst.country}), id {inst.id}.")


@institutions_cli.command("list")
def list_institutions() -> None:
    for inst in db.session.scalars(institution_service.institutions_query()):
        click.echo(f"{inst.id}\t{inst.slug}\t{inst.time_zone}\t{inst.name}")


def _lookup(model: type, value: str, field: str) -> int:
    row = institution_service.find_by(db.session, model, field, value)
    if row is None:
        raise click.ClickException(f"No {model.__tablename__[:-1]} {value!r}.")
    return row.id


institutions_cli.add_command(seal_command)


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(institutions_cli)
    add_attendance_commands(app)
    add_audit_commands(app)
    add_personal_data_commands(app)

    @app.cli.command("demo-data")
    def demo_data() -> None:
        """Load the demo institution, users of each role and cohorts (idempotent)."""
        ids = load_demo_data(db.session)
        click.echo(f"Demo data ready (institution {ids['institution_id']}). Sign in with password {DEMO_PASSWORD!r}:")
        for email, role, _name in DEMO_USERS:
            click.echo(f"  {role.value:<12} {email}")
