"""GET /api/callers/<number>: the card for a number written in any format."""

from __future__ import annotations

from flask import abort, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_login import login_required

from .. import clock, db, directory, numbers
from . import bp


@bp.get("/callers/<path:raw_number>")
@login_required
def caller(raw_number: str) -> ResponseReturnValue:
    region = current_app.config["CALLERID_DEFAULT_REGION"]
    try:
        number = numbers.parse(raw_number, region)
    except numbers.InvalidNumber as exc:
        abort(400, description=f"{raw_number!r} is {exc.reason}.")
    session = db.session()
    customers = directory.find_by_number(session, number)
    card = directory.caller_card(
        session, number, customers, region, today=clock.business_today(current_app.config)
    )
    return jsonify(card)
