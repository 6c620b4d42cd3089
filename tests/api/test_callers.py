"""GET /api/callers/<number>: the card for a number, in whatever format someone typed it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ..factories import add_call, add_customer, add_user, token_for


@pytest.fixture
def headers(session) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(session, add_user(session))}"}


@pytest.mark.parametrize(
    "written", ["+14155550134", "(415) 555-0134", "415-555-0134", "001 415 555 0134"]
)
def test_the_card_is_found_whatever_the_format(client, session, headers, written):
    anna = add_customer(session, "Anna Moors", salutation="Mrs.", notes="Window table")
    add_call(session, anna, outcome="booking")
    response = client.get(f"/api/callers/{written}", headers=headers)
    assert response.status_code == 200
    card = response.get_json()
    assert card["greeting"] == "Welcome back, Mrs. Moors"
    assert card["customer"]["id"] == anna.id
    assert card["customer"]["notes"] == "Window table"
    assert card["customer"]["calls_count"] == 1
    assert card["customer"]["recent_calls"][0]["outcome"] == "booking"


def test_an_unknown_number_gets_a_new_caller_card(client, headers):
    card = client.get("/api/callers/+442079460958", headers=headers).get_json()
    assert card["customer"] is None
    assert card["caller"]["country"] == "United Kingdom"
    assert card["caller"]["display"] == "+44 20 7946 0958"


def test_a_malformed_number_is_a_bad_request_with_a_reason(client, headers):
    response = client.get("/api/callers/12ab", headers=headers)
    assert response.status_code == 400
    assert "not a phone number" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("auth", [None, "Bearer cid_wrong", "Basic dXNlcjpwYXNz"])
def test_the_api_refuses_anyone_without_a_valid_token(client, auth):
    headers = {"Authorization": auth} if auth else {}
    response = client.get("/api/callers/+14155550134", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == 401


def test_a_revoked_token_or_deactivated_user_is_refused(client, session):
    from callerid.auth import tokens

    user = add_user(session, "leaver")
    token = token_for(session, user)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/calls", headers=headers).status_code == 200
    tokens.revoke(session, user, tokens.live_token(session, token).id, by=user)
    session.commit()
    assert client.get("/api/calls", headers=headers).status_code == 401
    other = token_for(session, user)
    user.is_active = False
    session.commit()
    assert client.get("/api/calls", headers={"Authorization": f"Bearer {other}"}).status_code == 401


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_birthday_turns_at_the_businesss_midnight_not_utcs(app, client, session, headers, zone):
    # UTC+14 and UTC-11: at any hour, one of the two is on another date than UTC.
    app.config["CALLERID_TIMEZONE"] = zone
    local_today = datetime.now(ZoneInfo(zone)).date()
    add_customer(session, "Anna Moors", birthday=local_today.replace(year=1980))
    card = client.get("/api/callers/+14155550134", headers=headers).get_json()
    assert card["customer"]["occasion"] == "Birthday today"
