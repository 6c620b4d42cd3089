"""What the desk does from a card: "I've got it", card shown, save a new caller, edit a customer.

JSON in, JSON out; each write carries the page's CSRF token in an X-CSRFToken header.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from .. import business, calls, customer_changes, db, directory, screens
from ..events import stream
from ..models import Call, Customer
from .views import bp


@bp.post("/board/calls/<call_sid>/claim")
@login_required
def claim(call_sid: str) -> ResponseReturnValue:
    """ "I've got it" from the screen named in ``{"screen"}`` (optional): that screen keeps the
    card open, every other one folds it to "Answered by <name>"."""
    body = request.get_json(silent=True)
    screen = body.get("screen") if isinstance(body, dict) else None
    session = db.session()
    call = _call(call_sid)
    event_id = screens.claim(
        session,
        call,
        current_user.name,
        str(screen or ""),
        business.region(),
        today=business.today(),
    )
    _commit()
    return jsonify(claimed=event_id is not None, answered_by=call.answered_by, status=call.status)


@bp.post("/board/calls/<call_sid>/shown")
@login_required
def shown(call_sid: str) -> ResponseReturnValue:
    """A screen displayed the card; the first one sets ``card_shown_at`` (screen-pop time)."""
    screens.mark_shown(db.session(), call_sid)
    db.session().commit()
    return "", 204


@bp.post("/board/calls/<call_sid>/caller")
@login_required
def save_caller(call_sid: str) -> ResponseReturnValue:
    """Save a new caller's name from their card: their next call says "Welcome back"."""
    name = _json().get("name")
    if not isinstance(name, str):
        abort(400, description='Send JSON: {"name": "..."}.')
    session = db.session()
    call = _call(call_sid)
    try:
        customer, _ = screens.save_caller(
            session, call, name, business.region(), today=business.today()
        )
    except screens.AlreadyKnown as exc:
        abort(409, description=f"This caller is already saved as {exc}.")
    except (screens.NoNumber, directory.InvalidChange) as exc:
        abort(400, description=str(exc))
    _commit()
    return jsonify(customer_id=customer.id, name=customer.name), 201


@bp.patch("/board/customers/<int:customer_id>")
@login_required
def edit_customer(customer_id: int) -> ResponseReturnValue:
    """Correct a customer's name, salutation, preferred name, notes, preferences, VIP or
    do-not-greet; open cards of that customer redraw on every screen (``customer.updated``).
    Staff reach only a customer a card on the board shows (a current or recent call): the
    board is not a way to read or change the rest of the directory (managers have /api)."""
    session = db.session()
    customer = session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None or not _may_edit(session, customer):
        abort(404, description=f"No customer {customer_id} on the board.")
    try:
        with customer_changes.audited(session, customer.id, (current_user.name, current_user.id)):
            directory.update_customer(session, customer, _json())
    except directory.InvalidChange as exc:
        abort(400, description=str(exc))
    screens.customer_changed(session, customer, business.region(), today=business.today())
    _commit()
    return jsonify(customer=directory.customer_details(session, customer, today=business.today()))


def _may_edit(session: Session, customer: Customer) -> bool:
    return current_user.is_manager or bool(screens.cards_showing(session, customer))


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="Send a JSON object.")
    return body


def _call(call_sid: str) -> Call:
    # Locked until commit: a claim and the call's own callbacks must not undo each other.
    call = calls.find(db.session(), call_sid, to_change=True)
    if call is None:
        abort(404, description=f"No call {call_sid}.")
    return call


def _commit() -> None:
    db.session().commit()
    stream.wake(current_app)
