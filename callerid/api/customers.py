"""GET/POST /api/customers, GET/PATCH/DELETE /api/customers/<id>, POST .../<id>/merge (managers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import abort, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from .. import business, customer_changes, db, inputs, numbers
from ..auth import manager_required
from ..db import iso
from ..directory import activity, customers, merge
from ..directory.cards import occasion
from ..directory.search import search
from ..events import stream
from ..models import Customer
from ..request_args import actor, bad, int_arg, json_object, limit_arg, link_query
from . import bp
from .calls import call_json

MAX_LIMIT = 200


@bp.get("/customers")
@manager_required
def customer_list() -> ResponseReturnValue:
    args = request.args
    page = int_arg(args.get("page"), "page") or 1
    limit = limit_arg(args.get("limit"), 50, MAX_LIMIT)
    with _mapped_errors():
        found = search(
            db.session(),
            args.get("q", ""),
            sort=args.get("sort") or "name",
            page=page,
            limit=limit,
            region=business.region(),
        )
    body: dict[str, Any] = {
        "customers": [
            summary_json(item.customer, item.calls_count, item.last_call_at)
            for item in found.customers
        ],
        "page": page,
        "limit": limit,
        "total": found.total,
        "next_page": page + 1 if found.has_more else None,
        "next": None,
    }
    if found.has_more:
        body["next"] = url_for("api.customer_list", **link_query(args, page=page + 1))
    return jsonify(body)


@bp.post("/customers")
@manager_required
def customer_create() -> ResponseReturnValue:
    session = db.session()
    with _mapped_errors():
        customer = customer_changes.create(
            session, json_object(), business.region(), today=business.today(), by=actor()
        )
    _commit()
    location = url_for("api.customer_detail", customer_id=customer.id)
    return jsonify(detail_json(session, customer, business.today())), 201, {"Location": location}


@bp.get("/customers/<int:customer_id>")
@manager_required
def customer_detail(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    with _mapped_errors():
        customer = customers.get(session, customer_id)
    return jsonify(detail_json(session, customer, business.today()))


@bp.patch("/customers/<int:customer_id>")
@manager_required
def customer_update(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    with _mapped_errors():
        customer = customer_changes.update(
            session,
            customer_id,
            json_object(),
            business.region(),
            today=business.today(),
            by=actor(),
        )
    _commit()
    return jsonify(detail_json(session, customer, business.today()))


@bp.delete("/customers/<int:customer_id>")
@manager_required
def customer_erase(customer_id: int) -> ResponseReturnValue:
    session = db.session()
    name, user_id = actor()
    with _mapped_errors():
        erased = customer_changes.erase(
            session,
            customer_id,
            actor=name,
            user_id=user_id,
            region=business.region(),
            today=business.today(),
        )
    _commit()
    return jsonify(
        {
            "erased": {
                "customer_id": erased.customer_id,
                "calls_anonymised": erased.calls,
                "notes_deleted": erased.notes,
                "events_rewritten": erased.events_rewritten,
                "events_deleted": erased.events_deleted,
            }
        }
    )


@bp.post("/customers/<int:customer_id>/merge")
@manager_required
def customer_merge(customer_id: int) -> ResponseReturnValue:
    into = inputs.json_id(json_object().get("into"))
    if into is None:
        bad('Send {"into": <id of the customer who stays>}.')
    session = db.session()
    name, user_id = actor()
    with _mapped_errors():
        merged = customer_changes.merge(
            session,
            customer_id,
            into,
            actor=name,
            user_id=user_id,
            region=business.region(),
            today=business.today(),
        )
    _commit()
    moved = {"numbers": merged.numbers, "calls": merged.calls, "notes": merged.notes}
    return jsonify(
        {
            "customer": detail_json(session, merged.survivor, business.today()),
            "merged": {"id": merged.merged_id, **moved},
        }
    )


def summary_json(customer: Customer, calls_count: int, last_call_at: Any) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "salutation": customer.salutation,
        "preferred_name": customer.preferred_name,
        "email": customer.email,
        "tags": customer.tag_list,
        "vip": customer.is_vip,
        "do_not_greet": customer.do_not_greet,
        "do_not_contact": customer.do_not_contact,
        "numbers": [row.number for row in customer.numbers],
        "calls_count": calls_count,
        "last_call_at": iso(last_call_at),
    }


def detail_json(session: Session, customer: Customer, today: date) -> dict[str, Any]:
    """Everything about the customer, and their latest calls with the notes written on them;
    ``today`` (the business's date) says which occasion comes next."""
    calls_count, last_call_at = activity.call_stats(session, [customer.id]).get(
        customer.id, (0, None)
    )
    recent = activity.timeline(session, customer.id)
    notes = activity.notes_on(session, [call.id for call in recent])
    return {
        **summary_json(customer, calls_count, last_call_at),
        "notes": customer.notes,
        "preferences": customer.preferences,
        "alerts": customer.alerts,
        "pronunciation": customer.pronunciation,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "anniversary": customer.anniversary.isoformat() if customer.anniversary else None,
        "occasion": occasion(customer, today),
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
        "timeline": [
            {
                **call_json(call),
                "notes": [
                    {
                        "body": note.body,
                        "author": note.author.name if note.author else "",
                        "created_at": iso(note.created_at),
                    }
                    for note in notes.get(call.id, [])
                ],
            }
            for call in recent
        ],
        "calls_url": url_for("api.call_log", customer_id=customer.id),
    }


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Turn the directory's exceptions into the API's answers."""
    try:
        yield
    except customers.UnknownCustomer as exc:
        abort(404, description=f"No customer {exc.customer_id}.")
    except customers.ErasedCustomer as exc:
        abort(410, description=f"Customer {exc.customer_id} was erased on {iso(exc.erased_at)}.")
    except numbers.InvalidNumber as exc:
        abort(400, description=f"{exc.raw_number!r} is not a usable number: {exc.reason}.")
    except (customers.InvalidCustomer, merge.SelfMerge) as exc:
        text = str(exc)
        abort(400, description=f"{text[:1].upper()}{text[1:]}.")


def _commit() -> None:
    # Every change here is announced as customer.updated: wake this process's streams for it.
    db.session().commit()
    stream.wake(current_app)
