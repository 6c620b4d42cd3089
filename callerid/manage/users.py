"""GET /users (managers): who can log in; add people, reset passwords, deactivate, API tokens.

Changes are POST forms (CSRF-checked) answered with a redirect and a flash message, except the
three that reveal a secret (a generated password, a new token): those answer with a page shown
once and never cached, so the secret never rides in a cookie or a URL."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import db
from ..auth import manager_required, tokens, users
from ..models import User
from . import bp
from .writes import refused, saved, sentence


@bp.get("/users", endpoint="users")
@manager_required
def users_page() -> ResponseReturnValue:
    return render_template("manage/users/index.html", listed=users.listing(db.session()))


@bp.post("/users", endpoint="users_create")
@manager_required
def users_create() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()
    role = request.form.get("role", "staff")
    typed = request.form.get("password", "")
    password = typed or users.generate_password()
    with refused(
        url_for("manage.users"),
        users.InvalidUser,
        users.UserExists,
        users.WeakPassword,
        say=sentence,
    ):
        user = users.add(db.session(), name, role, password, by=current_user)
    if typed:
        return saved(f"Added {user.name} ({user.role}) with the password you typed.", _back(user))
    db.session().commit()
    return _secret(user, "password", password, f"Added {user.name} ({user.role})")


@bp.get("/users/<int:user_id>", endpoint="users_show")
@manager_required
def users_show(user_id: int) -> ResponseReturnValue:
    session = db.session()
    user = _user(user_id)
    return render_template(
        "manage/users/show.html",
        user=user,
        user_tokens=tokens.of_user(session, user),
        is_self=user.id == current_user.id,
    )


@bp.post("/users/<int:user_id>/password", endpoint="users_password")
@manager_required
def users_password(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    typed = request.form.get("password", "")
    if request.form.get("mode") == "typed" and not typed:
        flash("Type the new password, or choose to generate one.", "error")
        return redirect(_back(user))
    password = typed or users.generate_password()
    with refused(_back(user), users.WeakPassword, say=sentence):
        users.reset_password(db.session(), user, password, by=current_user)
    if typed:
        return saved(
            f"{user.name}'s password is changed; any wait after failed tries is lifted.",
            _back(user),
        )
    db.session().commit()
    return _secret(user, "password", password, f"{user.name}'s password is reset")


@bp.post("/users/<int:user_id>/phone", endpoint="users_phone")
@manager_required
def users_phone(user_id: int) -> ResponseReturnValue:
    """The phone a call-back by this user rings first."""
    user = _user(user_id)
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    with refused(_back(user), users.BadPhone):
        phone = users.set_phone(
            db.session(), user, request.form.get("phone", ""), region, by=current_user
        )
    rings = phone or "the front desk"
    return saved(f"Call-backs by {user.name} ring {rings} first.", _back(user))


@bp.post("/users/<int:user_id>/deactivate", endpoint="users_deactivate")
@manager_required
def users_deactivate(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    with refused(_back(user), users.WouldLockOut):
        users.deactivate(db.session(), user, by=current_user)
    return saved(
        f"{user.name} is deactivated: they are logged out and their tokens stop.", _back(user)
    )


@bp.post("/users/<int:user_id>/reactivate", endpoint="users_reactivate")
@manager_required
def users_reactivate(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    users.reactivate(db.session(), user, by=current_user)
    return saved(f"{user.name} can log in again.", _back(user))


@bp.post("/users/<int:user_id>/tokens", endpoint="users_token_create")
@manager_required
def users_token_create(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    kind = request.form.get("kind", "user")
    source = request.form.get("source", "")
    with refused(_back(user), tokens.UnknownKind, tokens.BadSource, say=sentence):
        token = tokens.issue(db.session(), user, kind=kind, by=current_user, source=source)
    db.session().commit()
    what = "API token" if kind == "user" else f"{kind} token"
    return _secret(user, "token", token, f"A new {what} for {user.name}")


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke", endpoint="users_token_revoke")
@manager_required
def users_token_revoke(user_id: int, token_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    session = db.session()
    try:
        tokens.revoke(session, user, token_id, by=current_user)
    except tokens.UnknownToken:
        abort(404, description="No such token.")
    return saved(f"Token {token_id} of {user.name} is revoked: it no longer works.", _back(user))


def _user(user_id: int) -> User:
    try:
        return users.get(db.session(), user_id)
    except users.UnknownUser:
        abort(404, description="No such user.")


def _secret(user: User, kind: str, secret: str, headline: str) -> ResponseReturnValue:
    page = render_template(
        "manage/users/secret.html", user=user, kind=kind, secret=secret, headline=headline
    )
    return page, 200, {"Cache-Control": "no-store"}


def _back(user: User) -> str:
    return url_for("manage.users_show", user_id=user.id)
