"""/account: every logged-in person's own page: change their password, log out everywhere, and
the phone their call-backs ring first."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from .. import db
from . import login_sessions, users
from .views import bp, start_login


@bp.get("/account")
@login_required
def account() -> str:
    live = login_sessions.count_live(db.session(), current_user)
    return render_template("account.html", live_logins=live)


@bp.post("/account/password")
@login_required
def change_password() -> Response | tuple[str, int]:
    session = db.session()
    user = current_user._get_current_object()
    try:
        users.change_own_password(
            session, user, request.form.get("current", ""), request.form.get("new", "")
        )
    except (users.WrongPassword, users.WeakPassword) as refused:
        flash(str(refused), "error")
        live = login_sessions.count_live(session, user)
        return render_template("account.html", live_logins=live), 400
    # Every login ended with the old password; this browser goes on in a new one.
    secret = login_sessions.begin(session, user)
    session.commit()
    start_login(user, secret)
    flash("Password changed. Every other screen logged in as you has been logged out.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/logout-everywhere")
@login_required
def log_out_everywhere() -> Response:
    session = db.session()
    ended = login_sessions.end_all(session, current_user)
    session.commit()
    logout_user()
    flash(f"Logged out everywhere ({ended} screens or browsers).", "success")
    return redirect(url_for("auth.login"))


@bp.post("/account/phone")
@login_required
def set_own_phone() -> Response:
    """The phone a call-back this person starts rings first (managers set anyone's on /users)."""
    session = db.session()
    user = current_user._get_current_object()
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    try:
        phone = users.set_phone(session, user, request.form.get("phone", ""), region, by=user)
    except users.BadPhone as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("auth.account"))
    session.commit()
    where = phone or "the front desk"
    flash(f"Your call-backs ring {where} first.", "success")
    return redirect(url_for("auth.account"))
