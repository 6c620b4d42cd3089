"""From a new caller's card: who they might be, attach their number to that customer, undo it."""

from __future__ import annotations

from typing import TypedDict

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import attach as attaching
from .. import business, db, inputs
from ..db import iso
from ..directory import suggest
from .actions import _call, _commit, _json
from .views import bp


@bp.get("/board/calls/<call_sid>/suggestions")
@login_required
def suggestions(call_sid: str) -> ResponseReturnValue:
    """``?name=`` (at least 3 letters): up to 5 customers whose name starts so, each with only
    their name, the last 2 digits of another number and when they last called."""
    call = _call(call_sid)
    try:
        found = suggest.suggest(db.session(), request.args.get("name", ""), call.from_number or "")
    except suggest.TooShort as exc:
        abort(400, description=str(exc))
    return jsonify(
        suggestions=[
            {
                "customer_id": s.customer_id,
                "name": s.name,
                "number_hint": s.number_hint,
                "last_call_at": iso(s.last_call_at),
            }
            for s in found
        ]
    )


@bp.post("/board/calls/<call_sid>/attach")
@login_required
def attach(call_sid: str) -> ResponseReturnValue:
    """``{"customer_id"}``: the caller's number joins that customer; ``undo_until`` says until
    when ``POST .../attach/undo`` takes it back."""
    customer_id = _customer_id()
    call = _call(call_sid)
    try:
        customer = attaching.attach(
            db.session(), call, customer_id, business.region(), today=business.today(), **_actor()
        )
    except attaching.CannotAttach as exc:
        abort(409, description=f"Could not attach: {exc}.")
    _commit()
    row = next(n for n in customer.numbers if n.number == call.from_number)
    until = iso(row.created_at + attaching.UNDO_WITHIN)
    return jsonify(customer_id=customer.id, name=customer.name, undo_until=until)


@bp.post("/board/calls/<call_sid>/attach/undo")
@login_required
def undo_attach(call_sid: str) -> ResponseReturnValue:
    customer_id = _customer_id()
    call = _call(call_sid)
    try:
        attaching.undo(
            db.session(), call, customer_id, business.region(), today=business.today(), **_actor()
        )
    except attaching.TooLate as exc:
        abort(409, description=f"Could not undo: {exc}.")
    _commit()
    return jsonify(undone=True)


def _customer_id() -> int:
    customer_id = inputs.json_id(_json().get("customer_id"))
    if customer_id is None:
        abort(400, description='Send JSON: {"customer_id": <id>}.')
    return customer_id


class _Actor(TypedDict):
    """Who made a change, as the services' keyword arguments for the audit log name them."""

    actor: str
    user_id: int


def _actor() -> _Actor:
    return {"actor": current_user.name, "user_id": current_user.id}
