"""Manager pages for customers: the directory, one customer with their calls, and the forms that
add and edit them (merging and erasing: ``merge_erase``). The same services as /api/customers;
every change is announced to open screens (``customer_changes``).

Over 300 lines because the list, the customer page and the forms share the form-reading and
error-wording helpers at the end, which ``merge_erase`` uses too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from phonenumbers import NumberParseException
from werkzeug.datastructures import MultiDict

from .. import clock, customer_changes, db, inputs, numbers, texts
from ..auth import manager_required
from ..directory import customers as records
from ..directory.cards import greeting, occasion
from ..events import stream
from ..history import calllog
from ..models import Customer
from . import bp

PAGE_SIZE = 25
TIMELINE_SIZE = 20
MAX_PAGE = 100_000
SORTS = {
    "name": "Name, A to Z",
    "calls": "Most calls",
    "last_call": "Latest call",
    "newest": "Newest customers",
}
# The customer form's text inputs (directory.customers.TEXT_FIELDS is their length limits).
FORM_FIELDS = ("name", "salutation", "preferred_name", "email", "tags", "birthday", "anniversary")
FORM_FIELDS += ("notes", "preferences", "alerts", "pronunciation")
LABELS = {
    "name": "Name",
    "salutation": "Salutation",
    "preferred_name": "Preferred name",
    "email": "Email",
    "tags": "Tags",
    "birthday": "Birthday",
    "anniversary": "Anniversary",
    "notes": "Notes",
    "preferences": "Preferences",
    "alerts": "Alerts",
    "pronunciation": "Pronunciation",
    "numbers": "Phone numbers",
    "vip": "VIP",
    "do_not_greet": "Do not greet",
    "number": "Number",
    "label": "Label",
}


@bp.get("/customers")
@manager_required
def customers() -> ResponseReturnValue:
    q = request.args.get("q", "").strip()
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    page = _page_number(request.args.get("page"))
    found = records.search(db.session(), q, sort=sort, page=page, limit=PAGE_SIZE, region=_region())
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
        phone=_phone,
    )


@bp.get("/customers/new")
@manager_required
def customers_new() -> ResponseReturnValue:
    return _form_page(None, {"name": request.args.get("name", "")}, {})


@bp.post("/customers/new")
@manager_required
def customers_create() -> ResponseReturnValue:
    data = _submitted(request.form, with_numbers=True)
    errors = _field_errors(data)
    customer = None
    if not errors:
        try:
            customer = customer_changes.create(
                db.session(), data, _region(), today=_today(), by=_by()
            )
        except records.InvalidCustomer:
            errors["name"] = "Give a name, a phone number, or both."
    if customer is None:
        db.session().rollback()
        return _form_page(None, _shown(request.form), errors), 400
    _commit()
    flash(f"Added {customer.name or 'the customer'}.", "success")
    return redirect(url_for("manage.customers_show", customer_id=customer.id))


@bp.get("/customers/<int:customer_id>")
@manager_required
def customers_show(customer_id: int) -> ResponseReturnValue:
    with _found():
        customer = records.get(db.session(), customer_id)
    return _show_page(customer, request.args.get("before") or None)


@bp.get("/customers/<int:customer_id>/edit")
@manager_required
def customers_edit(customer_id: int) -> ResponseReturnValue:
    with _found():
        customer = records.get(db.session(), customer_id)
    return _form_page(customer, _values_of(customer), {})


@bp.post("/customers/<int:customer_id>/edit")
@manager_required
def customers_update(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    with _found():
        customer = records.get(session, customer_id)
        data = _submitted(request.form)
        errors = _field_errors(data)
        if not errors:
            try:
                customer_changes.update(
                    session, customer_id, data, _region(), today=_today(), by=_by()
                )
            except records.InvalidCustomer:
                errors["name"] = "A customer without phone numbers needs a name."
    if errors:
        session.rollback()
        return _form_page(customer, _shown(request.form), errors), 400
    _commit()
    flash("Saved. Open screens show the change.", "success")
    return redirect(url_for("manage.customers_show", customer_id=customer_id))


@bp.post("/customers/<int:customer_id>/numbers")
@manager_required
def customers_add_number(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    raw_number, label = request.form.get("number", ""), request.form.get("label", "")
    errors: dict[str, str] = {}
    with _found():
        try:
            row = customer_changes.attach_number(
                session, customer_id, raw_number, label, _region(), today=_today()
            )
        except numbers.InvalidNumber as exc:
            errors["number"] = _number_problem(exc)
        except records.InvalidCustomer as exc:
            errors["label"] = _sentence(str(exc))
    if errors:
        session.rollback()
        customer = records.get(session, customer_id)
        added = {"number": raw_number, "label": label}
        return _show_page(customer, None, number_form=added, number_errors=errors), 400
    _commit()
    flash(f"Added {_phone(row.number)}.", "success")
    return redirect(url_for("manage.customers_show", customer_id=customer_id, _anchor="numbers"))


@bp.post("/customers/<int:customer_id>/numbers/remove")
@manager_required
def customers_remove_number(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    number = request.form.get("number", "")
    with _found():
        try:
            change = {"remove_numbers": [number]}
            customer_changes.update(
                session, customer_id, change, _region(), today=_today(), by=_by()
            )
        except numbers.InvalidNumber:
            flash(f"{number!r} is not a phone number; nothing was removed.", "error")
        except records.InvalidCustomer:
            flash("That is their only number: give the customer a name first.", "error")
        else:
            _commit()
            flash(f"Removed {_phone(number)}.", "success")
    return redirect(url_for("manage.customers_show", customer_id=customer_id, _anchor="numbers"))


def page_links(page: int, last: int, around: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last and those near ``page``; None marks a gap."""
    wanted = {1, last, *range(page - around, page + around + 1)}
    shown: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= last):
        if shown and shown[-1] is not None and number - shown[-1] > 1:
            shown.append(None)
        shown.append(number)
    return shown


def _show_page(customer: Customer, cursor: str | None, **extra: Any) -> ResponseReturnValue:
    session = db.session()
    try:
        calls = calllog.log(session, customer_id=customer.id, limit=TIMELINE_SIZE, cursor=cursor)
    except calllog.BadCursor:
        abort(400, description="That link to older calls is broken: start from the newest.")
    calls_count, last_call_at = records.call_stats(session, [customer.id]).get(
        customer.id, (0, None)
    )
    return render_template(
        "manage/customers/show.html",
        customer=customer,
        greeting=greeting(customer),
        occasion=occasion(customer, _today()),
        calls=calls.calls,
        call_notes=records.notes_on(session, [call.id for call in calls.calls]),
        older=calls.next_cursor,
        cursor=cursor,
        calls_count=calls_count,
        last_call_at=last_call_at,
        notes_about=records.notes_about(session, customer.id),
        described={n.number: _about(n.number) for n in customer.numbers},
        texts_received=texts.of_customer(session, customer.id),
        opt_outs={
            row.number: found
            for row in customer.numbers
            if (found := texts.opted_out(session, row.number)) is not None
        },
        number_form=extra.get("number_form", {}),
        number_errors=extra.get("number_errors", {}),
        phone=_phone,
    )


def _form_page(
    customer: Customer | None, values: dict[str, Any], errors: dict[str, str]
) -> ResponseReturnValue:
    return render_template(
        "manage/customers/form.html",
        customer=customer,
        values=values,
        errors=errors,
        labels=LABELS,
        phone=_phone,
    )


def _submitted(form: MultiDict[str, str], *, with_numbers: bool = False) -> dict[str, Any]:
    """The directory's fields from a customer form; unticked boxes are not sent, so mean no."""
    data: dict[str, Any] = {field: form.get(field, "") for field in FORM_FIELDS}
    data["vip"] = "vip" in form
    data["do_not_greet"] = "do_not_greet" in form
    if with_numbers:
        lines = form.get("numbers", "").replace(";", "\n").replace(",", "\n").splitlines()
        data["numbers"] = [line.strip() for line in lines if line.strip()]
    return data


def _shown(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the form showed, to show it again exactly as typed."""
    return {**form.to_dict(), "vip": "vip" in form, "do_not_greet": "do_not_greet" in form}


def _values_of(customer: Customer) -> dict[str, Any]:
    values: dict[str, Any] = {field: getattr(customer, field) for field in FORM_FIELDS}
    values["tags"] = ", ".join(customer.tag_list)
    for field in ("birthday", "anniversary"):
        values[field] = values[field].isoformat() if values[field] else ""
    values["vip"], values["do_not_greet"] = customer.is_vip, customer.do_not_greet
    return values


def _field_errors(data: dict[str, Any]) -> dict[str, str]:
    return {
        field: _sentence(message, field)
        for field, message in records.field_errors(data, _region()).items()
    }


def _sentence(message: str, field: str = "") -> str:
    """The directory's message as a sentence under the field: its label instead of its key."""
    if field and message.startswith(field + " "):
        message = LABELS.get(field, field) + message[len(field) :]
    message = message.replace(", or null", ", or left empty")
    return f"{message[:1].upper()}{message[1:]}."


def _number_problem(exc: numbers.InvalidNumber) -> str:
    region = _region()
    return (
        f"{exc.raw_number!r} is not a usable number: {exc.reason}. Write it with its country "
        f"code (+44 20 7946 0958) or as a {region} number."
    )


def _count(amount: int, noun: str) -> str:
    return f"{amount} {noun}{'' if amount == 1 else 's'}"


@contextmanager
def _found() -> Iterator[None]:
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


def _phone(number: str) -> str:
    try:
        return numbers.display(number, _region())
    except NumberParseException:
        return number  # stored before numbers were checked (see the data quality page)


def _about(number: str) -> dict[str, str]:
    try:
        return numbers.describe(number, _region())
    except NumberParseException:
        return {"place": "", "country": "", "line_type": "not a valid number"}


def _page_number(raw: str | None) -> int:
    # Anything but a sensible page number shows the first page (an edited link, not a failure).
    page = inputs.whole_number(raw, inputs.MAX_BIG_ID)
    return min(page, MAX_PAGE) if page else 1


def _commit() -> None:
    db.session().commit()
    stream.wake(current_app)


def _by() -> customer_changes.Actor:
    return current_user.name, current_user.id


def _region() -> str:
    return current_app.config["CALLERID_DEFAULT_REGION"]


def _today() -> date:
    return clock.business_today(current_app.config)
