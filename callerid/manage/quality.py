"""GET /quality (managers): likely duplicate customers, shared household numbers and stored
numbers that are not E.164, each with a one-click fix (a CSRF-checked POST, then back here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from phonenumbers import NumberParseException

from .. import clock, db, inputs, numbers, screens
from ..auth import manager_required
from ..directory import allergies, namesakes, quality, quality_fixes
from ..directory.customers import ErasedCustomer, UnknownCustomer
from ..events import stream
from ..models import Customer, PhoneNumber
from . import bp


@bp.get("/quality", endpoint="quality")
@manager_required
def quality_page() -> ResponseReturnValue:
    found = quality.report(db.session(), _region())
    return render_template(
        "manage/quality.html",
        found=found,
        allergies=allergies.suggestions(db.session()),
        namesakes=namesakes.namesakes(db.session()),
        merge_url=_merge_link(),
        shown=_shown,
        customer_url=_customer_link(),
        region=_region(),
    )


@bp.post("/quality/merge", endpoint="quality_merge")
@manager_required
def quality_merge() -> ResponseReturnValue:
    into = _int(request.form.get("into"))
    others = [_int(raw) for raw in request.form.getlist("merge")]
    session = db.session()
    try:
        merged = quality_fixes.merge_duplicates(
            session, request.form.get("number", ""), into, others, **_actor()
        )
    except (quality_fixes.Stale, UnknownCustomer, ErasedCustomer):
        return _stale()
    survivor = session.get(Customer, into)
    _announce(survivor)
    records = "record" if merged == 1 else "records"
    flash(f"Merged {merged} {records} into {survivor.name or 'the kept record'}.", "success")
    return redirect(url_for("manage.quality"))


@bp.post("/quality/household", endpoint="quality_household")
@manager_required
def quality_household() -> ResponseReturnValue:
    number = request.form.get("number", "")
    session = db.session()
    try:
        owners = quality_fixes.mark_household(session, number, **_actor())
    except quality_fixes.Stale:
        return _stale()
    session.commit()
    flash(f"{_shown(number)} is marked as a household of {owners}.", "success")
    return redirect(url_for("manage.quality"))


@bp.post("/quality/remove", endpoint="quality_remove")
@manager_required
def quality_remove() -> ResponseReturnValue:
    session = db.session()
    try:
        row = quality_fixes.remove_number(session, _int(request.form.get("phone_id")), **_actor())
    except quality_fixes.Stale:
        return _stale()
    _announce(row.customer)
    flash(f"Removed {_shown(row.number)} from {row.customer.name or 'the customer'}.", "success")
    return redirect(url_for("manage.quality"))


@bp.post("/quality/normalise", endpoint="quality_normalise")
@manager_required
def quality_normalise() -> ResponseReturnValue:
    session = db.session()
    phone = session.get(PhoneNumber, _int(request.form.get("phone_id")))
    try:
        number = quality_fixes.normalise_number(
            session, _int(request.form.get("phone_id")), _region(), **_actor()
        )
    except quality_fixes.Stale:
        return _stale()
    except numbers.InvalidNumber as error:
        session.rollback()
        flash(f"{error.raw_number} cannot be read: {error.reason}. Remove it instead.", "error")
        return redirect(url_for("manage.quality"))
    _announce(phone.customer if phone is not None else None)
    flash(f"Stored as {number}: it now finds its customer when they call.", "success")
    return redirect(url_for("manage.quality"))


@bp.post("/quality/alerts", endpoint="quality_alerts")
@manager_required
def quality_alerts() -> ResponseReturnValue:
    """Move the sentence about an allergy from notes or preferences into alerts."""
    try:
        customer = allergies.move_to_alerts(
            db.session(),
            _int(request.form.get("customer_id")),
            request.form.get("field", ""),
            request.form.get("sentence", ""),
            **_actor(),
        )
    except allergies.Stale:
        return _stale()
    _announce(customer)
    flash(f"Moved into {customer.name or 'the customer'}'s alerts.", "success")
    return redirect(url_for("manage.quality"))


def _announce(customer: Customer | None) -> None:
    """Commit, telling open screens (``customer.updated``): a card on the board may show them."""
    session = db.session()
    if customer is not None:
        screens.customer_changed(session, customer, _region(), today=_today())
    session.commit()
    stream.wake(current_app)


def _shown(number: str) -> str:
    """A stored number as people write it; unreadable ones exactly as stored."""
    try:
        return numbers.display(number, _region())
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


def _region() -> str:
    return current_app.config.get("CALLERID_DEFAULT_REGION") or "US"


def _actor() -> dict[str, object]:
    return {"actor": current_user.name, "user_id": current_user.id}


def _int(raw: str | None) -> int:
    return inputs.whole_number(raw) or 0


def _stale() -> ResponseReturnValue:
    db.session().rollback()
    flash("That was already changed, perhaps on another screen. Here is the list as it is now.")
    return redirect(url_for("manage.quality"))


def _today() -> date:
    return clock.business_today(current_app.config)
