"""Every malformed input gets a 4xx in the shape its caller reads, never a 500 or a traceback
(issue 13, finding 6). Each test runs on SQLite and on PostgreSQL, whose limits differ."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET

import pytest

from callerid.directory import customers

from ..api.conftest import bearer
from ..factories import add_call, add_customer, add_user, log_in
from ..twilio import post_signed, sample, signature

BIG_IDS = [2**31, 2**63, 10**20]  # past PostgreSQL's integer, SQLite's INTEGER, any column


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture):
    """A refused input is the client's mistake: nothing worth an ERROR line or a traceback."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
def manager(session) -> dict[str, str]:
    return bearer(session, "boss", "manager")


def json_error(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == status
    return error["message"]


@pytest.mark.parametrize("big", BIG_IDS)
def test_an_id_too_large_for_any_row_is_not_found(client, manager, big):
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open(f"/api/customers/{big}", method=method, headers=manager, json={})
        json_error(response, 404)


def test_an_id_too_large_on_a_page_is_the_not_found_page(client, session):
    add_user(session, "boss", "manager")
    log_in(client, "boss")
    response = client.get(f"/customers/{2**63}")
    assert response.status_code == 404
    assert "text/html" in response.content_type


@pytest.mark.parametrize("big", BIG_IDS)
def test_a_json_id_too_large_is_a_bad_request(client, session, manager, big):
    customer = add_customer(session)
    response = client.post(
        f"/api/customers/{customer.id}/merge", json={"into": big}, headers=manager
    )
    assert "into" in json_error(response, 400)


@pytest.mark.parametrize(
    "query",
    [
        "/api/calls?limit=²",
        "/api/calls?customer_id=٣",
        f"/api/calls?customer_id={2**31}",
        f"/api/calls?line_id={10**25}",
        "/api/audit?limit=²",
        "/api/missed?limit=²",
        "/api/customers?page=²",
        f"/api/customers?page={10**20}",
    ],
)
def test_numbers_in_other_digits_or_out_of_range_are_bad_requests(client, manager, query):
    name = re.search(r"\?(\w+)=", query).group(1)
    assert name in json_error(client.get(query, headers=manager), 400)


@pytest.mark.parametrize("after", ["²", str(10**30)])
def test_a_position_no_stream_can_have_starts_the_stream_from_now(client, session, after):
    staff = bearer(session, "desk", "staff")
    response = client.get(f"/events?after={after}", headers=staff)
    try:
        assert response.status_code == 200
        assert next(response.response).startswith(b"retry: 2000\nevent: stream.open\n")
    finally:
        response.close()


@pytest.mark.parametrize("cursor", ["²", "1.²", f"1.{2**31}", f"1.{10**20}", f"{10**30}.1"])
def test_a_pagination_cursor_we_never_gave_is_a_bad_request(client, manager, cursor):
    json_error(client.get(f"/api/calls?cursor={cursor}", headers=manager), 400)
    json_error(client.get(f"/api/audit?cursor={cursor}", headers=manager), 400)


def test_a_nul_byte_in_a_query_is_a_bad_request(client, manager):
    assert "NUL" in json_error(client.get("/api/customers?q=an%00na", headers=manager), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Anna\x00Moors"},
        {"notes": "x", "pronunciation": "\x00"},
        {"name\x00": "Anna"},
        {"tags": ["ok", "n\x00t"]},
    ],
)
def test_a_nul_byte_in_any_json_field_is_a_bad_request(client, session, manager, body):
    customer = add_customer(session, notes="kept")
    response = client.patch(f"/api/customers/{customer.id}", json=body, headers=manager)
    assert "NUL" in json_error(response, 400)
    session.expire_all()
    assert session.get(type(customer), customer.id).notes == "kept"


def test_a_lone_surrogate_in_json_is_a_bad_request(client, manager):
    response = client.post(
        "/api/customers",
        data='{"name": "Anna \\ud800", "numbers": ["+14155550134"]}',
        content_type="application/json",
        headers=manager,
    )
    assert "surrogate" in json_error(response, 400)


@pytest.mark.parametrize("depth", [40, 30_000])  # past our limit; past Python's stack, in 64 KiB
def test_deeply_nested_json_is_a_bad_request(client, manager, depth):
    response = client.post(
        "/api/customers",
        data="[" * depth + "]" * depth,
        content_type="application/json",
        headers=manager,
    )
    assert "nested" in json_error(response, 400)


def test_nested_json_on_the_board_is_a_bad_request(client, session):
    add_user(session, "anna", "staff")
    token = log_in(client, "anna")
    call = add_call(session, status="ringing")
    response = client.post(
        f"/board/calls/{call.call_sid}/claim",
        data='{"screen": ' + "[" * 5000 + "]" * 5000 + "}",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    json_error(response, 400)


def test_a_nul_byte_in_the_login_name_is_a_bad_request_page(client, session):
    add_user(session, "anna", "staff")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"name": "an\x00na", "password": "correct horse", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert "NUL" in response.get_data(as_text=True)


def test_undecodable_bytes_in_a_form_are_only_a_wrong_name(client, session):
    # A surrogate's UTF-8 bytes cannot come through a form: they decode to U+FFFD.
    add_user(session, "anna", "staff")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data=f"name=an%ED%A0%80na&password=x&csrf_token={token}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 401


def test_the_customer_validator_refuses_text_a_database_cannot_store(session):
    # The CSV import and the CLI reach the validator without passing the request gate.
    for value in ("Anna\x00", "Anna \ud800"):
        with pytest.raises(customers.InvalidCustomer, match="NUL|surrogate"):
            customers.create(session, {"name": value})


def post_absolute(client, raw_uri: str, signature_header: str):
    """POST the voice sample as gunicorn hands on "POST <raw_uri> HTTP/1.1"."""
    return client.post(
        "/twilio/voice",
        data=sample("voice-inbound-us"),
        headers={"X-Twilio-Signature": signature_header},
        base_url="http://localhost:8000",
        environ_overrides={"RAW_URI": raw_uri},
    )


def test_an_absolute_url_request_line_on_twilio_is_checked_like_any_other(client):
    # An absolute-form request line is valid HTTP; its path is what Twilio would have signed.
    url = "http://localhost:8000/twilio/voice"
    signed = signature(url, sample("voice-inbound-us"))
    for raw_uri in (url, "http://elsewhere:1/twilio/voice"):
        response = post_absolute(client, raw_uri, signed)
        assert response.status_code == 200
        assert ET.fromstring(response.data).find("Dial") is not None
    assert post_absolute(client, url, "bm9wZQ==").status_code == 403


def test_a_host_with_an_unreadable_port_is_a_refused_signature(client):
    params = sample("voice-inbound-us")
    response = client.post(
        "/twilio/voice",
        data=params,
        headers={"X-Twilio-Signature": signature("http://localhost/twilio/voice", params)},
        environ_overrides={"HTTP_HOST": "localhost:x"},
    )
    assert response.status_code == 403


def test_refusals_on_the_call_webhooks_are_twiml(client):
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us", CallSid=None))
    assert response.status_code == 400
    assert response.mimetype == "text/xml"
    document = ET.fromstring(response.data)
    assert document.tag == "Response" and document.find("Hangup") is not None
    status = post_signed(client, "/twilio/status", {"AccountSid": "AC" + "0" * 32})
    json_error(status, 400)
