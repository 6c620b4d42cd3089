"""Manager pages that end a customer record: merge it into another (search, confirm, apply)
or erase its personal data (confirm, apply). Every change is announced to open screens."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import business, customer_changes, db
from ..auth import manager_required
from ..directory import activity, merge
from ..directory.search import search
from . import bp
from .customers import (
    counted,
    customer_or_gone,
    known_customer,
    page_of,
    phone_display,
)
from .writes import saved

MERGE_CHOICES = 10


@bp.get("/customers/<int:customer_id>/merge")
@manager_required
def customers_merge(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    customer = customer_or_gone(customer_id)
    q = request.args.get("q", "").strip()
    choices = []
    if q:
        found = search(session, q, limit=MERGE_CHOICES + 1, region=business.region())
        choices = [item for item in found.customers if item.customer.id != customer_id]
    return render_template(
        "manage/customers/merge.html",
        customer=customer,
        q=q,
        choices=choices[:MERGE_CHOICES],
        phone=phone_display,
    )


@bp.get("/customers/<int:customer_id>/merge/<int:other_id>")
@manager_required
def customers_merge_confirm(customer_id: int, other_id: int) -> ResponseReturnValue:
    if customer_id == other_id:
        flash("Pick another customer: a record cannot be merged into itself.", "error")
        return redirect(url_for("manage.customers_merge", customer_id=customer_id))
    with known_customer():
        plan = merge.preview(db.session(), other_id, customer_id)
    return render_template("manage/customers/merge_confirm.html", plan=plan, phone=phone_display)


@bp.post("/customers/<int:customer_id>/merge/<int:other_id>")
@manager_required
def customers_merge_apply(customer_id: int, other_id: int) -> ResponseReturnValue:
    session = db.session()
    with known_customer():
        try:
            merged = customer_changes.merge(
                session,
                other_id,
                customer_id,
                actor=current_user.name,
                user_id=current_user.id,
                region=business.region(),
                today=business.today(),
            )
        except merge.SelfMerge:
            abort(400, description="A customer cannot be merged into itself.")
    moved = (counted(merged.numbers, "number"), counted(merged.calls, "call"))
    return saved(
        f"Merged customer #{merged.merged_id} into this record: {moved[0]}, {moved[1]} and "
        f"{counted(merged.notes, 'note')} moved.",
        page_of(customer_id),
        wake=True,
    )


@bp.get("/customers/<int:customer_id>/erase")
@manager_required
def customers_erase(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    customer = customer_or_gone(customer_id)
    calls_count, _ = activity.call_stats(session, [customer_id]).get(customer_id, (0, None))
    return render_template(
        "manage/customers/erase.html",
        customer=customer,
        calls_count=calls_count,
        phone=phone_display,
    )


@bp.post("/customers/<int:customer_id>/erase")
@manager_required
def customers_erase_apply(customer_id: int) -> ResponseReturnValue:
    with known_customer():
        erased = customer_changes.erase(
            db.session(),
            customer_id,
            actor=current_user.name,
            user_id=current_user.id,
            region=business.region(),
            today=business.today(),
        )
    return saved(
        f"Customer #{customer_id} was erased: {counted(erased.calls, 'call')} anonymised, "
        f"{counted(erased.notes, 'note')} deleted. The audit log records who did it.",
        url_for("manage.customers"),
        wake=True,
    )
