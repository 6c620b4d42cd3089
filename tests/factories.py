"""Rows for tests, one line each: add only what the test talks about."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from callerid.auth import tokens
from callerid.auth.users import create_user
from callerid.db import utcnow
from callerid.models import Call, Customer, Line, PhoneNumber, User
from callerid.models.webhooks import WebhookDelivery, WebhookEndpoint
from callerid.webhooks import delivery

_sids = count(1)
PASSWORD = "correct horse"  # add_user's, unless a test sets its own


def call_sid() -> str:
    return f"CA{next(_sids):032x}"


def add_customer(
    session: Session,
    name: str = "Anna Moors",
    numbers: tuple[str, ...] = ("+14155550134",),
    **fields: Any,
) -> Customer:
    customer = Customer(name=name, **fields)
    customer.numbers = [PhoneNumber(number=number) for number in numbers]
    session.add(customer)
    session.commit()
    return customer


def add_call(
    session: Session,
    customer: Customer | None = None,
    *,
    from_number: str | None = None,
    at: datetime | None = None,
    status: str = "completed",
    line: str = "+12025550143",
    **fields: Any,
) -> Call:
    number = from_number or (customer.numbers[0].number if customer else "+13125550187")
    line_row = session.query(Line).filter_by(number=line).one_or_none() or Line(number=line)
    received = at or utcnow() - timedelta(days=1)
    call = Call(
        call_sid=call_sid(),
        from_number=number,
        raw_from=number,
        customer=customer,
        matched_by="number" if customer else None,
        status=status,
        line=line_row,
        received_at=received,
        answered_at=received if status == "completed" else None,
        ended_at=received + timedelta(minutes=2),
        **fields,
    )
    session.add(call)
    session.commit()
    return call


def add_user(
    session: Session, name: str = "desk", role: str = "staff", password: str = PASSWORD
) -> User:
    user = create_user(session, name, role, password)
    session.commit()
    return user


def token_for(session: Session, user: User, kind: str = "user", source: str = "pbx") -> str:
    token = tokens.issue(session, user, kind=kind, source=source)
    session.commit()
    return token


def add_webhook(
    session: Session, url: str = "https://hooks.example.com/callerid", **fields: Any
) -> WebhookDelivery:
    """An endpoint (fields as the model's) with one delivered test event; returns the delivery
    (its ``endpoint_id`` names the endpoint)."""
    endpoint = WebhookEndpoint(
        url=url, secret=delivery.new_secret(), event_types="call.ringing", **fields
    )
    session.add(endpoint)
    session.flush()
    sent = delivery.send_test(session, endpoint)
    session.commit()
    return sent


def log_in(client: FlaskClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the real form, as a browser does; return the CSRF token of the pages that
    follow, for form posts."""
    page = client.get("/login").get_data(as_text=True)
    token = _csrf_token(page)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    # The login renewed the session and its CSRF token: read the new one, as the next page would.
    return _csrf_token(client.get("/account").get_data(as_text=True))


def _csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)
