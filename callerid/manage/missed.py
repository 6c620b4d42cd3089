"""GET /missed (staff and managers): missed calls to return, one row per caller, and the button
that marks a caller called back (POST /missed/<call_sid>/called-back)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from .. import db, texts
from ..db import utcnow
from ..history import calllog, missed, returned
from ..models import Call, Line
from ..request_args import zone_arg
from . import bp, open_since
from .calllog import with_zone

GROUPS = 200
# "Recently called back": long enough to cover yesterday's shift.
RECENT = timedelta(hours=24)


@bp.get("/missed", endpoint="missed")
@login_required
def missed_page() -> ResponseReturnValue:
    args = with_zone(request.args)
    show_done = args.get("show") == "called-back"
    try:
        zone = zone_arg(args.get("tz"))
    except BadRequest as error:
        flash(str(error.description), "error")
        return redirect(url_for("manage.missed"))
    session = db.session()
    _load_lines(session)
    groups = missed.open_groups(session, since=open_since(), limit=GROUPS)
    done = returned.recently_called_back(session, since=utcnow() - RECENT) if show_done else []
    # What each waiting caller texted since their first missed call of the list.
    replies = texts.latest_from(
        session,
        {g.last_call.from_number: g.first_missed_at for g in groups if g.last_call.from_number},
    )
    return render_template(
        "manage/missed.html",
        groups=[_entry(group.last_call, group, zone) for group in groups],
        replies=replies,
        done=[_entry(group.last_call, group, zone) for group in done],
        show_done=show_done,
        tz=args["tz"],
        toggle_url=url_for(
            "manage.missed", tz=args["tz"], show=None if show_done else "called-back"
        ),
    )


@bp.post("/missed/<call_sid>/called-back")
@login_required
def missed_called_back(call_sid: str) -> ResponseReturnValue:
    session = db.session()
    back = _back_url()
    try:
        done = returned.call_back(session, call_sid, current_user.name)
    except returned.UnknownCall:
        flash("That call is no longer in the list: nothing was marked.", "error")
        return redirect(back)
    except returned.NotMissed:
        flash("That call was answered: there is nothing to call back.", "error")
        return redirect(back)
    session.commit()
    call = done.call
    who = _caller_name(call)
    if done.marked:
        flash(f"{who}: marked called back by {call.called_back_by}.", "success")
    else:
        flash(f"{who} had already been called back by {call.called_back_by}.", "success")
    return redirect(back)


@bp.post("/missed/<call_sid>/called-back/undo")
@login_required
def missed_called_back_undo(call_sid: str) -> ResponseReturnValue:
    session = db.session()
    try:
        reopened = returned.undo_call_back(session, call_sid, current_user.name)
    except (returned.UnknownCall, returned.NotCalledBack):
        flash("That call is not marked called back any more: nothing was undone.", "error")
        return redirect(_back_url())
    session.commit()
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    who = _caller_name(call) if call is not None else "The caller"
    flash(
        f"{who} waits to be called back again ({reopened} call{'s' if reopened != 1 else ''}).",
        "success",
    )
    return redirect(_back_url())


def _back_url() -> str:
    keep = {key: request.form[key] for key in ("tz", "show") if request.form.get(key)}
    return url_for("manage.missed", **keep)


def _load_lines(session: Session) -> None:
    # Lines are few: with them all in the session, each call's line needs no query of its own.
    session.scalars(select(Line)).all()


def _caller_name(call: Call) -> str:
    if call.customer is not None and call.customer.name:
        return call.customer.name
    return calllog.caller_display(call, current_app.config["CALLERID_DEFAULT_REGION"])


def _entry(call: Call, group: Any, zone: Any) -> dict[str, Any]:
    linked = "manage.customers_show" in current_app.view_functions
    customer = call.customer
    return {
        "call": call,
        "count": group.count,
        "name": customer.name if customer is not None and customer.name else None,
        "customer_url": url_for("manage.customers_show", customer_id=customer.id)
        if linked and customer is not None
        else None,
        "number": calllog.caller_display(call, current_app.config["CALLERID_DEFAULT_REGION"]),
        "tel": call.from_number,
        "last_at": call.received_at.astimezone(zone),
        "line": call.line,
        "called_back_at": call.called_back_at.astimezone(zone) if call.called_back_at else None,
    }
