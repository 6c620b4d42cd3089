"""Manager pages for customers: the directory, one customer with their calls, and the forms that
add and edit them and their numbers (merging and erasing: ``customer_merge``). The same services
as /api/customers; every change is announced to open screens (``customer_changes``).

Just over 300 lines because the list, the customer page and the forms share the look-up and
wording helpers at its end, which ``customer_merge`` uses too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from phonenumbers import NumberParseException
from sqlalchemy.orm import Session

from .. import business, customer_changes, db, inputs, numbers, texts, textwords, zones
from ..auth import manager_required
from ..directory import activity
from ..directory import customers as records
from ..directory.cards import greeting, occasion
from ..directory.search import search
from ..history import calllog
from ..models import Customer
from . import bp, customer_form
from .writes import refused, saved

PAGE_SIZE = 25
TIMELINE_SIZE = 20
MAX_PAGE = 100_000
SORTS = {
    "name": "Name, A to Z",
    "calls": "Most calls",
    "last_call": "Latest call",
    "newest": "Newest customers",
}


@bp.get("/customers")
@manager_required
def customers() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    page = _page_number(request.args.get("page"))
    found = search(db.session(), q, sort=sort, page=page, limit=PAGE_SIZE, region=business.region())
    last_page = max(1, -(-found.total // PAGE_SIZE))
    return render_template(
        "manage/customers/index.html",
        found=found,
        q=q,
        sort=sort,
        sorts=SORTS,
        page=page,
        pages=page_links(page, last_page),
        last_page=last_page,
        first_row=(page - 1) * PAGE_SIZE + 1,
        phone=phone_display,
    )


@bp.get("/customers/new")
@manager_required
def customers_new() -> ResponseReturnValue:
    return _form_page(None, {"name": request.args.get("name", "")}, {})


@bp.post("/customers/new")
@manager_required
def customers_create() -> ResponseReturnValue:
    data = customer_form.submitted(request.form, with_numbers=True)
    errors = customer_form.field_errors(data, business.region())
    customer = None
    if not errors:
        try:
            customer = customer_changes.create(
                db.session(), data, business.region(), today=business.today(), by=_by()
            )
        except records.InvalidCustomer:
            errors["name"] = "Give a name, a phone number, or both."
    if customer is None:
        db.session().rollback()
        return _form_page(None, customer_form.shown(request.form), errors), 400
    return saved(f"Added {customer.name or 'the customer'}.", page_of(customer.id), wake=True)


@bp.get("/customers/<int:customer_id>")
@manager_required
def customers_show(customer_id: int) -> ResponseReturnValue:
    customer = customer_or_gone(customer_id)
    return _show_page(customer, request.args.get("before") or None)


@bp.get("/customers/<int:customer_id>/edit")
@manager_required
def customers_edit(customer_id: int) -> ResponseReturnValue:
    customer = customer_or_gone(customer_id)
    return _form_page(customer, customer_form.values_of(customer), {})


@bp.post("/customers/<int:customer_id>/edit")
@manager_required
def customers_update(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    with known_customer():
        customer = records.get(session, customer_id)
        data = records.unchanged_left_out(customer, customer_form.submitted(request.form))
        errors = customer_form.field_errors(data, business.region())
        if not errors:
            try:
                customer_changes.update(
                    session, customer_id, data, business.region(), today=business.today(), by=_by()
                )
            except records.InvalidCustomer:
                errors["name"] = "A customer without phone numbers needs a name."
    if errors:
        session.rollback()
        return _form_page(customer, customer_form.shown(request.form), errors), 400
    return saved("Saved. Open screens show the change.", page_of(customer_id), wake=True)


@bp.post("/customers/<int:customer_id>/numbers")
@manager_required
def customers_add_number(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    raw_number, label = request.form.get("number", ""), request.form.get("label", "")
    errors: dict[str, str] = {}
    with known_customer():
        try:
            row = customer_changes.attach_number(
                session, customer_id, raw_number, label, business.region(), today=business.today()
            )
        except numbers.InvalidNumber as exc:
            errors["number"] = _number_problem(exc)
        except records.InvalidCustomer as exc:
            errors["label"] = customer_form.sentence(str(exc))
    if errors:
        session.rollback()
        customer = records.get(session, customer_id)
        added = {"number": raw_number, "label": label}
        return _show_page(customer, None, number_form=added, number_errors=errors), 400
    return saved(f"Added {phone_display(row.number)}.", page_of(customer_id, "numbers"), wake=True)


@bp.post("/customers/<int:customer_id>/numbers/remove")
@manager_required
def customers_remove_number(customer_id: int) -> ResponseReturnValue:
    number = request.form.get("number", "")
    back = page_of(customer_id, "numbers")

    def not_removed(refusal: Exception) -> str:
        if isinstance(refusal, numbers.InvalidNumber):
            return f"{number!r} is not a phone number; nothing was removed."
        return "That is their only number: give the customer a name first."

    with (
        known_customer(),
        refused(back, numbers.InvalidNumber, records.InvalidCustomer, say=not_removed),
    ):
        change = {"remove_numbers": [number]}
        customer_changes.update(
            db.session(), customer_id, change, business.region(), today=business.today(), by=_by()
        )
    return saved(f"Removed {phone_display(number)}.", back, wake=True)


def page_links(page: int, last: int, around: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last and those near ``page``; None marks a gap."""
    wanted = {1, last, *range(page - around, page + around + 1)}
    shown: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= last):
        if shown and shown[-1] is not None and number - shown[-1] > 1:
            shown.append(None)
        shown.append(number)
    return shown


def _show_page(customer: Customer, cursor: str | None, **extra: Any) -> str:
    session = db.session()
    try:
        calls = calllog.log(session, customer_id=customer.id, limit=TIMELINE_SIZE, cursor=cursor)
    except calllog.BadCursor:
        abort(400, description="That link to older calls is broken: start from the newest.")
    calls_count, last_call_at = activity.call_stats(session, [customer.id]).get(
        customer.id, (0, None)
    )
    return render_template(
        "manage/customers/show.html",
        customer=customer,
        greeting=greeting(customer),
        occasion=occasion(customer, business.today()),
        calls=calls.calls,
        call_notes=activity.notes_on(session, [call.id for call in calls.calls]),
        older=calls.next_cursor,
        cursor=cursor,
        calls_count=calls_count,
        last_call_at=last_call_at,
        notes_about=activity.notes_about(session, customer.id),
        described={n.number: _about(n.number) for n in customer.numbers},
        texts_received=texts.of_customer(session, customer.id),
        texts_sent=_texts_sent(session, customer.id),
        opt_outs={
            row.number: found
            for row in customer.numbers
            if (found := texts.opted_out(session, row.number)) is not None
        },
        number_form=extra.get("number_form", {}),
        number_errors=extra.get("number_errors", {}),
        phone=phone_display,
    )


def _texts_sent(session: Session, customer_id: int) -> list[dict[str, Any]]:
    """Our "sorry we missed you" texts to them, and what became of each, in words."""
    zone = zones.business_zone(current_app.config)
    return [
        {"row": row, "words": textwords.words(row, zone), "kind": textwords.kind(row)}
        for row in textwords.of_customer(session, customer_id)
    ]


def _form_page(customer: Customer | None, values: dict[str, Any], errors: dict[str, str]) -> str:
    return render_template(
        "manage/customers/form.html",
        customer=customer,
        values=values,
        errors=errors,
        labels=customer_form.LABELS,
        phone=phone_display,
    )


def _number_problem(exc: numbers.InvalidNumber) -> str:
    region = business.region()
    return (
        f"{exc.raw_number!r} is not a usable number: {exc.reason}. Write it with its country "
        f"code (+44 20 7946 0958) or as a {region} number."
    )


def counted(amount: int, noun: str) -> str:
    return f"{amount} {noun}{'' if amount == 1 else 's'}"


def customer_or_gone(customer_id: int) -> Customer:
    """The customer, or a 404 page for an unknown one and a 410 page for an erased one."""
    with known_customer():
        return records.get(db.session(), customer_id)


@contextmanager
def known_customer() -> Iterator[None]:
    """Unknown customers get a 404 page, erased ones a 410 page saying so."""
    try:
        yield
    except records.UnknownCustomer as exc:
        abort(_gone(404, exc.customer_id, None))
    except records.ErasedCustomer as exc:
        abort(_gone(410, exc.customer_id, exc))


def _gone(status: int, customer_id: int, erased: records.ErasedCustomer | None) -> Any:
    page = render_template(
        "manage/customers/gone.html",
        customer_id=customer_id,
        erased_at=erased.erased_at if erased else None,
    )
    return current_app.make_response((page, status))


def phone_display(number: str) -> str:
    try:
        return numbers.display(number, business.region())
    except NumberParseException:
        return number  # stored before numbers were checked (see the data quality page)


def _about(number: str) -> dict[str, str]:
    try:
        return numbers.describe(number, business.region())
    except NumberParseException:
        return {"place": "", "country": "", "line_type": "not a valid number"}


def _page_number(raw: str | None) -> int:
    # Anything but a sensible page number shows the first page (an edited link, not a failure).
    page = inputs.whole_number(raw, inputs.MAX_BIG_ID)
    return min(page, MAX_PAGE) if page else 1


def page_of(customer_id: int, anchor: str | None = None) -> str:
    return url_for("manage.customers_show", customer_id=customer_id, _anchor=anchor)


def _by() -> customer_changes.Actor:
    return current_user.name, current_user.id
