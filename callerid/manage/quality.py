"""GET /quality (managers): likely duplicate customers, shared household numbers and stored
numbers that are not E.164, each with a one-click fix (a CSRF-checked POST, then back here)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypedDict

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from phonenumbers import NumberParseException

from .. import business, db, inputs, numbers, screens
from ..auth import manager_required
from ..directory import allergies, namesakes, quality, quality_fixes
from ..directory.customers import ErasedCustomer, UnknownCustomer
from ..models import Customer, PhoneNumber
from . import bp
from .writes import refused, saved


@bp.get("/quality", endpoint="quality")
@manager_required
def quality_page() -> ResponseReturnValue:
    found = quality.report(db.session(), business.region())
    return render_template(
        "manage/quality.html",
        found=found,
        allergies=allergies.suggestions(db.session()),
        namesakes=namesakes.namesakes(db.session()),
        merge_url=_merge_link(),
        shown=_shown,
        customer_url=_customer_link(),
        region=business.region(),
    )


@bp.post("/quality/merge", endpoint="quality_merge")
@manager_required
def quality_merge() -> ResponseReturnValue:
    into = _int(request.form.get("into"))
    others = [_int(raw) for raw in request.form.getlist("merge")]
    session = db.session()
    with _stale(UnknownCustomer, ErasedCustomer):
        merged = quality_fixes.merge_duplicates(
            session, request.form.get("number", ""), into, others, **_actor()
        )
    survivor = session.get_one(Customer, into)  # merge_duplicates refused an unknown one
    records = "record" if merged == 1 else "records"
    return _announced(
        survivor, f"Merged {merged} {records} into {survivor.name or 'the kept record'}."
    )


@bp.post("/quality/household", endpoint="quality_household")
@manager_required
def quality_household() -> ResponseReturnValue:
    number = request.form.get("number", "")
    with _stale():
        owners = quality_fixes.mark_household(db.session(), number, **_actor())
    return saved(f"{_shown(number)} is marked as a household of {owners}.", _here())


@bp.post("/quality/remove", endpoint="quality_remove")
@manager_required
def quality_remove() -> ResponseReturnValue:
    with _stale():
        row = quality_fixes.remove_number(
            db.session(), _int(request.form.get("phone_id")), **_actor()
        )
    who = row.customer.name or "the customer"
    return _announced(row.customer, f"Removed {_shown(row.number)} from {who}.")


@bp.post("/quality/normalise", endpoint="quality_normalise")
@manager_required
def quality_normalise() -> ResponseReturnValue:
    session = db.session()
    phone = session.get(PhoneNumber, _int(request.form.get("phone_id")))
    with _stale(), refused(_here(), numbers.InvalidNumber, say=_unreadable):
        number = quality_fixes.normalise_number(
            session, _int(request.form.get("phone_id")), business.region(), **_actor()
        )
    return _announced(
        phone.customer if phone is not None else None,
        f"Stored as {number}: it now finds its customer when they call.",
    )


@bp.post("/quality/alerts", endpoint="quality_alerts")
@manager_required
def quality_alerts() -> ResponseReturnValue:
    """Move the sentence about an allergy from notes or preferences into alerts."""
    with _stale(allergies.Stale):
        customer = allergies.move_to_alerts(
            db.session(),
            _int(request.form.get("customer_id")),
            request.form.get("field", ""),
            request.form.get("sentence", ""),
            **_actor(),
        )
    return _announced(customer, f"Moved into {customer.name or 'the customer'}'s alerts.")


def _announced(customer: Customer | None, message: str) -> ResponseReturnValue:
    """Commit, telling open screens (``customer.updated``): a card on the board may show them."""
    if customer is not None:
        screens.customer_changed(db.session(), customer, business.region(), today=business.today())
    return saved(message, _here(), wake=True)


def _shown(number: str) -> str:
    """A stored number as people write it; unreadable ones exactly as stored."""
    try:
        return numbers.display(number, business.region())
    except NumberParseException:
        return number


def _customer_link() -> Callable[[int], str] | None:
    if "manage.customers_show" not in current_app.view_functions:
        return None
    return lambda customer_id: url_for("manage.customers_show", customer_id=customer_id)


def _merge_link() -> Callable[[int, int], str] | None:
    if "manage.customers_merge_confirm" not in current_app.view_functions:
        return None
    return lambda keep, other: url_for(
        "manage.customers_merge_confirm", customer_id=keep, other_id=other
    )


class _Actor(TypedDict):
    """Who made a change, as the services' keyword arguments for the audit log name them."""

    actor: str
    user_id: int


def _actor() -> _Actor:
    return {"actor": current_user.name, "user_id": current_user.id}


def _int(raw: str | None) -> int:
    return inputs.whole_number(raw) or 0


def _stale(*also: type[Exception]) -> AbstractContextManager[None]:
    """A fix whose rows changed since the page was drawn: back to the list as it is now."""
    return refused(_here(), quality_fixes.Stale, *also, say=_stale_message, category="message")


def _stale_message(_refusal: Exception) -> str:
    return "That was already changed, perhaps on another screen. Here is the list as it is now."


def _unreadable(error: numbers.InvalidNumber) -> str:
    return f"{error.raw_number} cannot be read: {error.reason}. Remove it instead."


def _here() -> str:
    return url_for("manage.quality")
