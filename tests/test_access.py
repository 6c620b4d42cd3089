"""Every route, and who may use it: anonymous visitors, staff and managers.

The table below must name every route the app serves, so a new page or endpoint cannot ship
without someone deciding who it is for. Pages send anonymous visitors to /login and JSON answers
401; staff get 403 from manager routes; managers pass every gate. Whether each route then does
its job is tested next to it; here only the gate is."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from .factories import add_call, add_customer, add_user, add_webhook, token_for

PUBLIC, TWILIO, STAFF, MANAGER = "public", "twilio", "staff", "manager"
METRICS = "metrics"  # an allow-listed address or a metrics token (tests/metrics/test_access.py)
PHONE = "phone"  # a phone system's token only (below, and tests/api/test_phone_*.py)

# (endpoint, method) -> who may use it
ACCESS = {
    ("static", "GET"): PUBLIC,
    ("health.healthz", "GET"): PUBLIC,
    ("health.readyz", "GET"): PUBLIC,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): PUBLIC,
    ("auth.account", "GET"): STAFF,
    ("auth.change_password", "POST"): STAFF,
    ("auth.log_out_everywhere", "POST"): STAFF,
    ("auth.set_own_phone", "POST"): STAFF,
    ("api.openapi", "GET"): PUBLIC,  # the API's description: no data in it
    ("telephony.voice", "POST"): TWILIO,
    ("telephony.status", "POST"): TWILIO,
    ("telephony.dial_action", "POST"): TWILIO,
    ("telephony.voicemail", "POST"): TWILIO,
    ("telephony.whisper_to_desk", "POST"): TWILIO,
    ("telephony.callback_answered", "POST"): TWILIO,
    ("telephony.callback_status", "POST"): TWILIO,
    ("telephony.text_received", "POST"): TWILIO,
    ("board.index", "GET"): STAFF,
    ("board.live", "GET"): STAFF,
    ("board.token", "GET"): STAFF,
    ("board.attach", "POST"): STAFF,
    ("board.claim", "POST"): STAFF,
    ("board.suggestions", "GET"): STAFF,
    ("board.undo_attach", "POST"): STAFF,
    ("board.shown", "POST"): STAFF,
    ("board.save_caller", "POST"): STAFF,
    ("board.edit_customer", "PATCH"): STAFF,
    ("events.events", "GET"): STAFF,
    ("api.caller", "GET"): STAFF,
    ("api.call_log", "GET"): STAFF,
    ("api.add_note", "POST"): STAFF,
    ("api.missed_list", "GET"): STAFF,
    ("api.missed_count", "GET"): STAFF,
    ("api.called_back", "POST"): STAFF,
    ("api.called_back_undo", "POST"): STAFF,
    ("api.call_back", "POST"): STAFF,
    ("api.callback_detail", "GET"): STAFF,
    ("manage.missed", "GET"): STAFF,
    ("manage.missed_called_back", "POST"): STAFF,
    ("manage.missed_called_back_undo", "POST"): STAFF,
    ("api.calls_csv", "GET"): MANAGER,
    ("api.customer_list", "GET"): MANAGER,
    ("api.customer_create", "POST"): MANAGER,
    ("api.customer_detail", "GET"): MANAGER,
    ("api.customer_update", "PATCH"): MANAGER,
    ("api.customer_erase", "DELETE"): MANAGER,
    ("api.customer_merge", "POST"): MANAGER,
    ("api.insight_summary", "GET"): MANAGER,
    ("api.audit_trail", "GET"): MANAGER,
    ("manage.customers", "GET"): MANAGER,
    ("manage.customers_new", "GET"): MANAGER,
    ("manage.customers_create", "POST"): MANAGER,
    ("manage.customers_show", "GET"): MANAGER,
    ("manage.customers_edit", "GET"): MANAGER,
    ("manage.customers_update", "POST"): MANAGER,
    ("manage.customers_add_number", "POST"): MANAGER,
    ("manage.customers_remove_number", "POST"): MANAGER,
    ("manage.customers_merge", "GET"): MANAGER,
    ("manage.customers_merge_confirm", "GET"): MANAGER,
    ("manage.customers_merge_apply", "POST"): MANAGER,
    ("manage.customers_erase", "GET"): MANAGER,
    ("manage.customers_erase_apply", "POST"): MANAGER,
    ("manage.call_log", "GET"): MANAGER,
    ("manage.insights", "GET"): MANAGER,
    ("manage.quality", "GET"): MANAGER,
    ("manage.quality_alerts", "POST"): MANAGER,
    ("manage.quality_household", "POST"): MANAGER,
    ("manage.quality_merge", "POST"): MANAGER,
    ("manage.quality_normalise", "POST"): MANAGER,
    ("manage.quality_remove", "POST"): MANAGER,
    ("manage.users", "GET"): MANAGER,
    ("manage.users_create", "POST"): MANAGER,
    ("manage.users_show", "GET"): MANAGER,
    ("manage.users_deactivate", "POST"): MANAGER,
    ("manage.users_reactivate", "POST"): MANAGER,
    ("manage.users_password", "POST"): MANAGER,
    ("manage.users_phone", "POST"): MANAGER,
    ("manage.users_token_create", "POST"): MANAGER,
    ("manage.users_token_revoke", "POST"): MANAGER,
    ("manage.audit", "GET"): MANAGER,
    ("manage.webhooks", "GET"): MANAGER,
    ("manage.webhooks_create", "POST"): MANAGER,
    ("manage.webhooks_show", "GET"): MANAGER,
    ("manage.webhooks_update", "POST"): MANAGER,
    ("manage.webhooks_action", "POST"): MANAGER,
    ("manage.webhooks_resend", "POST"): MANAGER,
    ("manage.settings", "GET"): MANAGER,
    ("manage.settings_save", "POST"): MANAGER,
    ("api.webhook_list", "GET"): MANAGER,
    ("api.webhook_create", "POST"): MANAGER,
    ("api.webhook_detail", "GET"): MANAGER,
    ("api.webhook_update", "PATCH"): MANAGER,
    ("api.webhook_delete", "DELETE"): MANAGER,
    ("api.webhook_rotate", "POST"): MANAGER,
    ("api.webhook_enable", "POST"): MANAGER,
    ("api.webhook_disable", "POST"): MANAGER,
    ("api.webhook_test", "POST"): MANAGER,
    ("api.webhook_deliveries", "GET"): MANAGER,
    ("api.webhook_resend", "POST"): MANAGER,
    ("metrics.scrape", "GET"): METRICS,
    ("api.phone_events", "POST"): PHONE,
    ("api.phone_lookup", "GET"): PHONE,
}
GATED = sorted((key for key, who in ACCESS.items() if who in (STAFF, MANAGER)), key=str)
PASSWORD = "correct horse"


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_says_who_may_use_it(app):
    served = _routes(app)
    assert sorted(served - ACCESS.keys()) == [], "add these routes to ACCESS"
    assert sorted(ACCESS.keys() - served) == [], "these routes are gone: drop them from ACCESS"


@pytest.fixture
def world(session) -> dict[str, object]:
    """One of everything a route's URL can name."""
    anna = add_customer(session, "Anna Moors", numbers=("+14155550134",))
    bob = add_customer(session, "Bob Hale", numbers=("+13125550187",))
    missed = add_call(session, anna, status="no-answer", is_missed=True)
    clerk = add_user(session, "clerk", "staff", PASSWORD)
    token_for(session, clerk)
    hook = add_webhook(session)
    session.commit()
    return {
        "customer_id": anna.id,
        "other_id": bob.id,
        "call_sid": missed.call_sid,
        "raw_number": "+14155550134",
        "user_id": clerk.id,
        "token_id": 1,
        "callback_id": 1,
        "endpoint_id": hook.endpoint_id,
        "delivery_id": hook.id,
        "filename": "css/app.css",
    }


def _url(app: Flask, endpoint: str, world: dict[str, object]) -> str:
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{name: world[name] for name in rule.arguments})


def _is_json_route(path: str) -> bool:
    return path.startswith(("/api/", "/events", "/board/"))


def _call(client: FlaskClient, method: str, path: str, headers: dict[str, str], token: str):
    body = {"csrf_token": token} if token else None
    if _is_json_route(path):
        response = client.open(path, method=method, json={}, headers=headers)
    else:
        response = client.open(path, method=method, data=body, headers=headers)
    status, location = response.status_code, response.headers.get("Location", "")
    response.close()  # /events streams until closed
    return status, location


def _log_in(client: FlaskClient, name: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # The login renewed the session and its CSRF token: read the new one, as the next page would.
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# Each role walks every gated route in one test: a test per route spent 90 % of its time building
# an app and a database (500 tests, 80 s of the suite). Each route gets a fresh client, so a
# route that logs out or ends sessions cannot change what the next one sees; the assertion
# lists every route that answered wrongly, with what it answered.


def test_anonymous_visitors_are_sent_to_log_in(app, world):
    wrong = []
    for endpoint, method in GATED:
        path = _url(app, endpoint, world)
        status, location = _call(app.test_client(), method, path, {}, "")
        if method != "GET" and not path.startswith("/api/"):
            # A write without a session carries no CSRF token either: refused before the login
            # check.
            expected = (403, "")
        elif _is_json_route(path):
            expected, location = (401, ""), ""
        else:
            expected, location = (302, "/login"), location.split("?")[0]
        if (status, location) != expected:
            wrong.append((method, path, status, location))
    assert wrong == []


def test_staff_pass_staff_gates_and_are_refused_manager_ones(app, session, world):
    add_user(session, "sam", "staff", PASSWORD)
    wrong = []
    for route in GATED:
        status = _as_user(app, "sam", route, world)
        refused = status in (401, 403)
        if ACCESS[route] == MANAGER and status != 403:
            wrong.append((route, status, "a manager's route let staff in"))
        elif ACCESS[route] == STAFF and (refused or status >= 500):
            wrong.append((route, status, "a staff route refused staff or failed"))
    assert wrong == []


def test_managers_pass_every_gate(app, session, world):
    add_user(session, "maria", "manager", PASSWORD)
    wrong = []
    for route in GATED:
        status = _as_user(app, "maria", route, world)
        if status in (401, 403) or status >= 500:
            wrong.append((route, status))
    assert wrong == []


def _as_user(app: Flask, name: str, route: tuple[str, str], world: dict[str, object]) -> int:
    """The status ``route`` answers a freshly logged-in ``name``, a write with its CSRF token."""
    client = app.test_client()
    token = _log_in(client, name)
    endpoint, method = route
    path = _url(app, endpoint, world)
    return _call(client, method, path, {"X-CSRFToken": token}, token)[0]


@pytest.mark.parametrize("kind", ["metrics", "phone"])
def test_a_metrics_or_phone_token_opens_no_gate(app, client, session, world, kind):
    """A monitoring server's token reads /metrics and nothing else; a phone system's posts
    call events and looks callers up. To every other route either is as good as no
    credentials at all, though their owner is a manager."""
    owner = add_user(session, "ops", "manager", PASSWORD)
    headers = {"Authorization": f"Bearer {token_for(session, owner, kind=kind)}"}
    let_in = []
    for endpoint, method in GATED:
        path = _url(app, endpoint, world)
        status, location = _call(client, method, path, headers, "")
        refused = status in (401, 403) or (status == 302 and location.startswith("/login"))
        if not refused:
            let_in.append((method, path, status))
    assert let_in == []


PHONE_ROUTES = sorted((key for key, who in ACCESS.items() if who == PHONE), key=str)


@pytest.mark.parametrize("route", PHONE_ROUTES, ids=lambda r: f"{r[1]} {r[0]}")
def test_phone_routes_refuse_everyone_but_a_phone_token(app, client, session, world, route):
    endpoint, method = route
    path = _url(app, endpoint, world) + "?number=%2B14155550134"
    maria = add_user(session, "maria", "manager", PASSWORD)
    as_user = {"Authorization": f"Bearer {token_for(session, maria)}"}
    as_phone = {"Authorization": f"Bearer {token_for(session, maria, kind='phone')}"}
    assert _call(client, method, path, {}, "")[0] == 401
    assert _call(client, method, path, as_user, "")[0] == 403
    token = _log_in(client, "maria")
    assert _call(client, method, path, {"X-CSRFToken": token}, token)[0] == 403
    # Past the gate: the lookup answers, the empty event is refused for what it lacks.
    assert _call(app.test_client(), method, path, as_phone, "")[0] in (200, 400)
