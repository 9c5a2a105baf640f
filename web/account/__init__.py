"""Sign-in, sign-out, and the profile screen where users make and revoke API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from core.access import auth as auth_service
from core.access.commands import ChooseLanguage, CreateApiToken
from core.access.throttle import ThrottlePolicy
from core.errors import TooManyAttempts, ValidationError
from core.models import ApiToken

from ..auth import HOME_BY_ROLE, public, signed_in, user
from ..extensions import db
from ..forms import form_command
from ..i18n import translated_message

bp = Blueprint("account", __name__)


REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Email(_l("Enter a valid email address."),
                                                check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(REQUIRED), Length(max=120)])


def _throttle_policy() -> ThrottlePolicy:
    c = current_app.config
    return ThrottlePolicy(free_failures=c["LOGIN_FREE_FAILURES"], max_delay=c["LOGIN_MAX_DELAY_SECONDS"],
                          address_ceiling=c["LOGIN_ADDRESS_CEILING"])


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never redirect a user to another host after sign-in.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _fresh_session() -> None:
    """A new session at sign-in and sign-out; only the language picked on the sign-in page carries over."""
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            try:
                found, _secret = auth_service.sign_in(
                    db.session, form.email.data, form.password.data,
                    ip=request.remote_addr, user_agent=request.user_agent.string, policy=_throttle_policy(),
                )
            except TooManyAttempts as exc:
                flash(translated_message(exc), "danger")
                return render_template("account/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
            except ValidationError as exc:
                flash(translated_message(exc), "danger")
                status = 401
            else:
                _fresh_session()
                login_user(found)
                return redirect(_safe_next(request.args.get("next")) or url_for(HOME_BY_ROLE[found.role]))
    return render_template("account/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Any:
    secret = user().login_session_id
    if secret:
        auth_service.sign_out(db.session, secret)
    logout_user()
    _fresh_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("account.login"))


def _tokens() -> list[ApiToken]:
    return auth_service.api_tokens(db.session, user())


@bp.route("/profile", methods=["GET"])
@signed_in
def profile() -> Any:
    return render_template("account/profile.html", tokens=_tokens(), form=TokenForm(), new_token=None)


@bp.route("/profile/language", methods=["POST"])
@signed_in
def choose_language() -> Any:
    command = form_command(ChooseLanguage)
    auth_service.choose_language(db.session, user(), command)
    session.pop("lang", None)  # the choice on Profile is the one that counts now
    flash(_("Language saved."), "success")
    return redirect(url_for("account.profile"))


@bp.route("/profile/tokens", methods=["POST"])
@signed_in
def create_token() -> Any:
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name (up to 120 characters)."), "danger")
        return redirect(url_for("account.profile"))
    token = auth_service.create_api_token(db.session, user(), CreateApiToken(name=form.name.data))
    # Shown once, on this response only; we keep just its hash.
    return render_template("account/profile.html", tokens=_tokens(), form=TokenForm(formdata=None), new_token=token)


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_token(token_id: int) -> Any:
    auth_service.revoke_api_token(db.session, user(), token_id)  # NotFound (404) for another's token
    flash(_("Token revoked."), "info")
    return redirect(url_for("account.profile"))
