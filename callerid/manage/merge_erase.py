"""Manager pages that merge a customer into another and erase one: each a page that shows what
will happen, then the change. The same services as /api/customers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import customer_changes, db
from ..auth import manager_required
from ..directory import customers as records
from ..directory import merge
from . import bp
from .customers import _commit, _count, _found, _phone, _region, _today

MERGE_CHOICES = 10


@bp.get("/customers/<int:customer_id>/merge")
@manager_required
def customers_merge(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    with _found():
        customer = records.get(session, customer_id)
    q = request.args.get("q", "").strip()
    choices = []
    if q:
        found = records.search(session, q, limit=MERGE_CHOICES + 1, region=_region())
        choices = [item for item in found.customers if item.customer.id != customer_id]
    return render_template(
        "manage/customers/merge.html",
        customer=customer,
        q=q,
        choices=choices[:MERGE_CHOICES],
        phone=_phone,
    )


@bp.get("/customers/<int:customer_id>/merge/<int:other_id>")
@manager_required
def customers_merge_confirm(customer_id: int, other_id: int) -> ResponseReturnValue:
    if customer_id == other_id:
        flash("Pick another customer: a record cannot be merged into itself.", "error")
        return redirect(url_for("manage.customers_merge", customer_id=customer_id))
    with _found():
        plan = merge.preview(db.session(), other_id, customer_id)
    return render_template("manage/customers/merge_confirm.html", plan=plan, phone=_phone)


@bp.post("/customers/<int:customer_id>/merge/<int:other_id>")
@manager_required
def customers_merge_apply(customer_id: int, other_id: int) -> ResponseReturnValue:
    session = db.session()
    with _found():
        try:
            merged = customer_changes.merge(
                session,
                other_id,
                customer_id,
                actor=current_user.name,
                user_id=current_user.id,
                region=_region(),
                today=_today(),
            )
        except merge.SelfMerge:
            abort(400, description="A customer cannot be merged into itself.")
    _commit()
    moved = (_count(merged.numbers, "number"), _count(merged.calls, "call"))
    flash(
        f"Merged customer #{merged.merged_id} into this record: {moved[0]}, {moved[1]} and "
        f"{_count(merged.notes, 'note')} moved.",
        "success",
    )
    return redirect(url_for("manage.customers_show", customer_id=customer_id))


@bp.get("/customers/<int:customer_id>/erase")
@manager_required
def customers_erase(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    with _found():
        customer = records.get(session, customer_id)
    calls_count, _ = records.call_stats(session, [customer_id]).get(customer_id, (0, None))
    return render_template(
        "manage/customers/erase.html", customer=customer, calls_count=calls_count, phone=_phone
    )


@bp.post("/customers/<int:customer_id>/erase")
@manager_required
def customers_erase_apply(customer_id: int) -> ResponseReturnValue:
    with _found():
        erased = customer_changes.erase(
            db.session(),
            customer_id,
            actor=current_user.name,
            user_id=current_user.id,
            region=_region(),
            today=_today(),
        )
    _commit()
    flash(
        f"Customer #{customer_id} was erased: {_count(erased.calls, 'call')} anonymised, "
        f"{_count(erased.notes, 'note')} deleted. The audit log records who did it.",
        "success",
    )
    return redirect(url_for("manage.customers"))
