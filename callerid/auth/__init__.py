"""Who may see what: staff and managers, by session cookie or bearer token."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, abort, current_app, g, redirect, request, url_for
from flask import session as cookie
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import WWWAuthenticate

from .. import db
from ..clients import sends_bearer, wants_json
from ..models import ApiToken
from . import login_sessions, tokens
from .users import DEFAULT_HASH_METHOD, authenticate, create_user, set_password, use_hash_method

__all__ = [
    "authenticate",
    "bearer_token",
    "create_user",
    "credential",
    "login_sessions",
    "init_app",
    "manager_required",
    "set_password",
    "tokens",
]


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a request carrying no session cookie (every
    Twilio webhook) gets its empty session without the signing serializer Flask would build for
    it anyway, which showed in the voice webhook's profile (docs/benchmarks.md)."""

    def open_session(self, app: Flask, req: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in req.cookies:
            return self.session_class()
        return super().open_session(app, req)


def init_app(app: Flask) -> None:
    _use_hash_method(app)
    app.session_interface = CookieSessions()
    manager = LoginManager(app)
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    app.before_request(_bearer_or_401)
    from . import account  # noqa: F401  (its routes join the auth blueprint)
    from .views import bp

    app.register_blueprint(bp)


def _use_hash_method(app: Flask) -> None:
    method = app.config["CALLERID_PASSWORD_HASH"]
    use_hash_method(method)
    if method != DEFAULT_HASH_METHOD and not app.testing:
        logging.getLogger(__name__).warning(
            "passwords are hashed with %s instead of %s (CALLERID_PASSWORD_HASH), and each "
            "login re-hashes with it: meant for test suites; keep %s in production",
            method,
            DEFAULT_HASH_METHOD,
            DEFAULT_HASH_METHOD,
        )


def manager_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only managers: anonymous users are sent to log in, staff get 403."""

    @functools.wraps(view)
    @login_required
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_manager:
            abort(403, description="Managers only.")
        return view(*args, **kwargs)

    return checked


def _load_user(user_id: str) -> Any:
    # The cookie names a login as well as a user: an ended login (logout, password reset,
    # deactivation) logs nobody in, whoever holds a copy of the cookie.
    secret = cookie.get(login_sessions.COOKIE_KEY)
    if not user_id.isdigit() or not isinstance(secret, str):
        return None
    found = login_sessions.find(db.session(), int(user_id), secret)
    if found is None:
        return None
    user, g.callerid_login = found
    return user


def credential() -> tuple[str, int] | None:
    """What the current request was let in with, for an open stream to check again later
    (``login_sessions.is_live``): ("token", id), ("login", id), or None when anonymous."""
    token = g.get("callerid_bearer")
    if token is not None:
        return ("token", token.id)
    if current_user.is_authenticated and g.get("callerid_login") is not None:
        return ("login", g.callerid_login)
    return None


def bearer_token(req: Request) -> ApiToken | None:
    """The live token sent as ``Authorization: Bearer``, of whatever kind, or None; notes that
    it was used. Callers decide what its kind may open. Looked up once per request."""
    if "callerid_bearer" not in g:
        g.callerid_bearer = _live_bearer(req)
    return g.callerid_bearer


def _live_bearer(req: Request) -> ApiToken | None:
    if not sends_bearer():
        return None
    token = req.headers["Authorization"].partition(" ")[2].strip()
    row = tokens.live_token(db.session(), token) if token else None
    if row is not None and tokens.is_due_for_use_mark(row):
        _mark_used(row.id)
    return row


def _bearer_or_401() -> None:
    """A request that sends a bearer token acts as that token and nothing else: a junk,
    revoked or deactivated user's token is a 401 even beside a valid session cookie, which
    would otherwise act for it without the CSRF and Origin checks that bearer requests skip
    (issue 13, finding 7). Only a ``user`` token logs its user in; a ``metrics`` token opens
    /metrics and nothing else."""
    if not sends_bearer():
        return
    row = bearer_token(request)
    if row is None:
        abort(
            401,
            description="That bearer token is not valid: revoked, mistyped, or its user is "
            "deactivated.",
            www_authenticate=WWWAuthenticate("bearer", {"error": "invalid_token"}),
        )
    # Flask-Login's init_app sets this attribute at run time; Flask's class does not declare it.
    manager = current_app.login_manager  # type: ignore[attr-defined]
    # Flask-Login reads the request's user from here; set, it never looks at the session.
    g._login_user = row.user if row.kind == "user" else manager.anonymous_user()


def _mark_used(token_id: int) -> None:
    # Its own short transaction: GET requests never commit theirs, and "last used" is a
    # courtesy for the users page that must never fail the request it describes.
    try:
        with db.new_session(current_app) as session:
            tokens.mark_used(session, token_id)
            session.commit()
    except SQLAlchemyError:
        logging.getLogger(__name__).warning("could not note that token %s was used", token_id)


def _unauthorized() -> Any:
    # Programs (the board's script included) get a 401 they can act on; people the login page.
    if wants_json():
        abort(401, description="Log in again (a session ends), or send a bearer token.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
