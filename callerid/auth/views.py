"""GET/POST /login and POST /logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from .. import db
from .users import Locked, authenticate

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    next_url = _safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    if request.method == "GET":
        return render_template("auth/login.html", next_url=next_url)
    session = db.session()
    try:
        user = authenticate(session, request.form.get("name", ""), request.form.get("password", ""))
    except Locked:
        session.commit()
        flash("Too many failed attempts. Wait five minutes, then try again.", "error")
        return render_template("auth/login.html", next_url=next_url), 429  # type: ignore[return-value]
    session.commit()
    if user is None:
        flash("That name and password do not match.", "error")
        return render_template("auth/login.html", next_url=next_url), 401  # type: ignore[return-value]
    login_user(user, remember=False)
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(raw: str | None) -> str:
    # Only a path on this site: never send someone who just logged in to another host.
    if raw and raw.startswith("/") and not raw.startswith("//") and not urlsplit(raw).netloc:
        return raw
    return url_for("board.index")
