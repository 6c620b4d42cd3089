"""GET /api/phone/lookup: the caller's name for a PBX, as JSON or as the display's text."""

from __future__ import annotations

import pytest

from callerid import phones
from callerid.models import Customer

from ..factories import add_customer

WHITFIELD = "+14155550134"


def lookup(client, headers, number: str, **args: str):
    return client.get("/api/phone/lookup", query_string={"number": number, **args}, headers=headers)


def test_a_known_caller_comes_back_with_name_greeting_vip_alerts_and_page(client, session, phone):
    eleanor = add_customer(
        session,
        "Eleanor Whitfield",
        numbers=(WHITFIELD,),
        salutation="Mrs.",
        is_vip=True,
        alerts="Severe peanut allergy",
    )
    answer = lookup(client, phone, "(415) 555-0134").get_json()
    assert answer == {
        "number": WHITFIELD,
        "found": True,
        "customer_id": eleanor.id,
        "name": "Eleanor Whitfield",
        "display_name": "E.Whitfield VIP",
        "greeting": "Welcome back, Mrs. Whitfield",
        "vip": True,
        "alerts": "Severe peanut allergy",
        "url": f"http://localhost/customers/{eleanor.id}",
    }


def test_the_text_format_is_the_display_name_alone(client, session, phone):
    add_customer(session, "Eleanor Whitfield", numbers=(WHITFIELD,), is_vip=True)
    response = lookup(client, phone, "+1 415 555 0134", format="text")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "E.Whitfield VIP"


@pytest.mark.parametrize(
    ("name", "vip", "shown"),
    [
        ("Anna Moors", False, "Anna Moors"),
        ("Anna Moors", True, "Anna Moors VIP"),
        ("Bartholomew Fitzgerald", False, "B. Fitzgerald"),
        ("Ann Maria Llewellyn-Montgomery", False, "Llewellyn-Montg"),
        ("Cher", True, "Cher VIP"),
    ],
)
def test_a_display_name_never_passes_fifteen_characters(name, vip, shown):
    customer = Customer(name=name, is_vip=vip)
    assert phones.display_name(customer) == shown
    assert len(shown) <= phones.DISPLAY_MAX


@pytest.mark.parametrize(
    "number", ["+13125550187", "anonymous", ""], ids=["unknown", "withheld", "empty"]
)
def test_an_unknown_or_withheld_caller_is_not_found_and_shows_nothing(client, phone, number):
    answer = lookup(client, phone, number).get_json()
    assert answer["found"] is False and answer["name"] is None and answer["url"] is None
    assert answer["greeting"] == "Thank you for calling"
    assert lookup(client, phone, number, format="text").get_data(as_text=True) == ""


def test_a_customer_who_asked_not_to_be_greeted_is_never_named(client, session, phone):
    add_customer(session, "Quiet Person", numbers=(WHITFIELD,), do_not_greet=True)
    answer = lookup(client, phone, WHITFIELD).get_json()
    assert answer["found"] is False and answer["name"] is None
    assert "Quiet" not in str(answer)
    assert lookup(client, phone, WHITFIELD, format="text").get_data(as_text=True) == ""


def test_text_that_is_no_number_is_refused_naming_the_field(client, phone):
    response = lookup(client, phone, "not a number")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "number" and "not a phone number" in error["message"]
    text = lookup(client, phone, "not a number", format="text")
    assert (text.status_code, text.get_data(as_text=True)) == (200, "")


def test_a_missing_number_or_an_unknown_format_is_refused_naming_the_field(client, phone):
    missing = client.get("/api/phone/lookup", headers=phone)
    assert (missing.status_code, missing.get_json()["error"]["field"]) == (400, "number")
    odd = lookup(client, phone, WHITFIELD, format="xml")
    assert (odd.status_code, odd.get_json()["error"]["field"]) == (400, "format")


def test_the_text_format_answers_an_empty_200_even_without_a_token(client, session):
    add_customer(session, "Eleanor Whitfield", numbers=(WHITFIELD,))
    response = lookup(client, {}, WHITFIELD, format="text")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "")
    assert lookup(client, {}, WHITFIELD).status_code == 401


def test_lookups_are_limited_per_token(app, client, session, phone):
    app.config["CALLERID_PHONE_LOOKUPS_PER_MINUTE"] = 3
    add_customer(session, "Anna Moors", numbers=(WHITFIELD,))
    statuses = [lookup(client, phone, WHITFIELD).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = lookup(client, phone, WHITFIELD)
    assert int(refused.headers["Retry-After"]) >= 1
    # The PBX's display shows nothing rather than an error; another token has its own budget.
    assert lookup(client, phone, WHITFIELD, format="text").get_data(as_text=True) == ""
    from ..factories import add_user, token_for

    other = token_for(session, add_user(session, "standby"), kind="phone", source="3CX")
    assert lookup(client, {"Authorization": f"Bearer {other}"}, WHITFIELD).status_code == 200


def test_a_plus_left_unencoded_in_the_query_string_still_reads_as_a_plus(client, session, phone):
    add_customer(session, "Oliver Bennett", numbers=("+442079460958",))
    response = client.get("/api/phone/lookup?number=+442079460958&format=text", headers=phone)
    assert response.get_data(as_text=True) == "Oliver Bennett"


def test_the_link_uses_the_public_address_behind_a_proxy(app, client, session, phone):
    app.config["CALLERID_PUBLIC_URL"] = "https://desk.example.com"
    anna = add_customer(session, "Anna Moors", numbers=(WHITFIELD,))
    answer = lookup(client, phone, WHITFIELD).get_json()
    assert answer["url"] == f"https://desk.example.com/customers/{anna.id}"


def test_a_failure_behind_the_text_format_still_shows_an_empty_name(
    client, phone, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("the directory is away")

    monkeypatch.setattr(phones, "lookup", broken)
    response = lookup(client, phone, WHITFIELD, format="text")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "")
    assert "caller look-up failed" in caplog.text


def test_a_customer_without_a_name_has_an_empty_display_name():
    assert phones.display_name(Customer(name="  ", is_vip=False)) == ""
    assert phones.display_name(Customer(name="", is_vip=True)) == "VIP"
