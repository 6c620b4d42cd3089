"""GET/POST /login and POST /logout."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from .. import db
from ..extensions import csrf
from ..models import User
from . import login_sessions, signin, throttle

bp = Blueprint("auth", __name__)
_UNSAFE = re.compile(r"^//|[\\\x00-\x1f]")


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt  # checked below, so an expired form gets the login page again, not an error page
def login() -> ResponseReturnValue:
    next_url = _safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    if request.method == "GET":
        return render_template("auth/login.html", next_url=next_url)
    if not _csrf_valid():
        # A login page left open for over an hour: its token expired. Ask again, calmly.
        flash("This page had been open a long time. Please log in again.", "error")
        return _form(next_url, 400)
    name = request.form.get("name", "")
    # The address CALLERID_TRUSTED_PROXIES lets us believe (ProxyFix), never a header as sent.
    address = request.remote_addr or ""
    session = db.session()
    try:
        signed_in = signin.attempt(
            session, name, request.form.get("password", ""), address, _limits()
        )
    except throttle.Throttled as wait:
        minutes = max(1, round(wait.retry_after / 60))
        flash(f"Too many failed attempts. Wait {minutes} minutes, then try again.", "error")
        page, status = _form(next_url, 429, name)
        return page, status, {"Retry-After": str(wait.retry_after)}
    session.commit()
    if signed_in is None:
        flash("That name and password do not match.", "error")
        return _form(next_url, 401, name)
    start_login(*signed_in)
    return redirect(next_url)


def start_login(user: User, secret: str) -> None:
    """Log this browser in as ``user`` under the login ``secret``, in a new cookie session: what
    the old one held (its CSRF token above all) is not carried over."""
    cookie.clear()
    login_user(user, remember=False)
    cookie[login_sessions.COOKIE_KEY] = secret


@bp.post("/logout")
def logout() -> Response:
    """End this browser's login: its cookie, and every copy of it, logs nobody in any more."""
    secret = cookie.get(login_sessions.COOKIE_KEY)
    if isinstance(secret, str):
        session = db.session()
        login_sessions.end(session, secret)
        session.commit()
    logout_user()
    cookie.clear()
    return redirect(url_for("auth.login"))


def _limits() -> throttle.Limits:
    config = current_app.config
    return throttle.Limits(
        per_name=config["CALLERID_LOGIN_TRIES_PER_NAME"],
        per_address=config["CALLERID_LOGIN_TRIES_PER_ADDRESS"],
        window=timedelta(seconds=config["CALLERID_LOGIN_WINDOW"]),
    )


def _form(next_url: str, status: int, name: str = "") -> tuple[str, int]:
    return render_template("auth/login.html", next_url=next_url, name=name), status


def _csrf_valid() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


def _safe_next(raw: str | None) -> str:
    # Only a path on this site: never send someone who just logged in to another host. Browsers
    # read a backslash as "/" and drop tabs and newlines, so "/\evil.example" is refused too.
    if raw and raw.startswith("/") and not _UNSAFE.search(raw) and not urlsplit(raw).netloc:
        return raw
    return url_for("board.index")
