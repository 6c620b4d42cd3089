"""Who may call which route: anonymous 401, staff per the HTTP table, managers everywhere."""

from __future__ import annotations

import pytest

from ..factories import add_call, add_customer
from .conftest import bearer

# method, path, JSON body, may staff use it, what a manager gets
ROUTES = [
    ("GET", "/api/callers/+14155550134", None, True, 200),
    ("GET", "/api/calls", None, True, 200),
    ("GET", "/api/missed", None, True, 200),
    ("POST", "/api/missed/{missed}/called-back", None, True, 200),
    ("GET", "/api/customers?q=anna", None, False, 200),
    ("POST", "/api/customers", {"name": "Cleo Park"}, False, 201),
    ("GET", "/api/customers/{anna}", None, False, 200),
    ("PATCH", "/api/customers/{anna}", {"vip": True}, False, 200),
    ("DELETE", "/api/customers/{anna}", None, False, 200),
    ("POST", "/api/customers/{bob}/merge", {"into": "{anna}"}, False, 200),
    ("GET", "/api/calls.csv", None, False, 200),
    ("GET", "/api/insights", None, False, 200),
    ("GET", "/api/audit", None, False, 200),
]


@pytest.fixture
def world(session) -> dict[str, str]:
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    bob = add_customer(session, "Bob Moors", numbers=("+14155550135",))
    missed = add_call(session, anna, status="no-answer", is_missed=True)
    return {"anna": str(anna.id), "bob": str(bob.id), "missed": missed.call_sid}


def _request(client, world, method, path, body, headers=None):
    if isinstance(body, dict):
        body = {
            k: int(v.format(**world)) if isinstance(v, str) and "{" in v else v
            for k, v in body.items()
        }
    return client.open(path.format(**world), method=method, json=body, headers=headers or {})


def _name(route) -> str:
    return f"{route[0]} {route[1]}"


@pytest.mark.parametrize("route", ROUTES, ids=_name)
def test_anonymous_requests_are_told_to_authenticate(client, world, route):
    method, path, body, _, _ = route
    response = _request(client, world, method, path, body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == 401


@pytest.mark.parametrize("route", ROUTES, ids=_name)
def test_staff_reach_their_routes_and_are_refused_manager_routes(client, session, world, route):
    method, path, body, staff_may, manager_gets = route
    response = _request(client, world, method, path, body, bearer(session, "desk", "staff"))
    assert response.status_code == (manager_gets if staff_may else 403), response.get_json()
    if not staff_may:
        assert response.get_json()["error"]["message"] == "Managers only."


@pytest.mark.parametrize("route", ROUTES, ids=_name)
def test_managers_reach_every_route(client, session, world, route):
    method, path, body, _, manager_gets = route
    response = _request(client, world, method, path, body, bearer(session, "boss", "manager"))
    assert response.status_code == manager_gets, response.get_data(as_text=True)
