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

from .. import db, texts, textwords
from ..db import utcnow
from ..history import calllog, missed, returned
from ..models import Call, Line
from ..request_args import zone_arg
from . import bp, open_since
from .calllog import with_zone
from .writes import refused, saved

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
    since = {g.last_call.from_number: g.first_missed_at for g in groups if g.last_call.from_number}
    replies = texts.latest_from(session, since)
    # What became of the "sorry we missed you" text to each: due, delivered, or why not.
    sent = {
        number: {"words": textwords.words(row, zone), "kind": textwords.kind(row)}
        for number, row in textwords.latest_to(session, since).items()
    }
    return render_template(
        "manage/missed.html",
        groups=[_entry(group.last_call, group, zone) for group in groups],
        replies=replies,
        texts_sent=sent,
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
    with refused(_back_url(), returned.UnknownCall, returned.NotMissed, say=_not_marked):
        done = returned.call_back(db.session(), call_sid, current_user.name)
    call = done.call
    who = _caller_name(call)
    if done.marked:
        return saved(f"{who}: marked called back by {call.called_back_by}.", _back_url())
    return saved(f"{who} had already been called back by {call.called_back_by}.", _back_url())


@bp.post("/missed/<call_sid>/called-back/undo")
@login_required
def missed_called_back_undo(call_sid: str) -> ResponseReturnValue:
    session = db.session()
    with refused(_back_url(), returned.UnknownCall, returned.NotCalledBack, say=_not_undone):
        reopened = returned.undo_call_back(session, call_sid, current_user.name)
    session.flush()
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    who = _caller_name(call) if call is not None else "The caller"
    calls = f"{reopened} call{'s' if reopened != 1 else ''}"
    return saved(f"{who} waits to be called back again ({calls}).", _back_url())


def _not_marked(refusal: Exception) -> str:
    if isinstance(refusal, returned.NotMissed):
        return "That call was answered: there is nothing to call back."
    return "That call is no longer in the list: nothing was marked."


def _not_undone(_refusal: Exception) -> str:
    return "That call is not marked called back any more: nothing was undone."


def _back_url() -> str:
    keep: dict[str, Any] = {k: request.form[k] for k in ("tz", "show") if request.form.get(k)}
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
        # Asked never to be contacted by us: no "Call back" button.
        "do_not_contact": customer is not None and customer.do_not_contact,
        "last_at": call.received_at.astimezone(zone),
        "line": call.line,
        "called_back_at": call.called_back_at.astimezone(zone) if call.called_back_at else None,
    }
