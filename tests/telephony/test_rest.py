"""Twilio's REST API as callerid uses it, against the tests' stand-in for Twilio (twilio_api.py),
which checks each request against Twilio's own OpenAPI description."""

from __future__ import annotations

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from callerid.telephony import rest

from ..twilio import AUTH_TOKEN
from ..twilio_api import ACCOUNT_SID, Callee, TwilioApi

LINE, DESK, ANNA = "+12025550143", "+12025550199", "+14155550134"
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
HOOKS = "https://desk.example.com/hooks"


def settings(api: TwilioApi, **more: str) -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "CALLERID_TWILIO_API_URL": api.url,
        **more,
    }


def nobody(url, params, headers):
    """Where Twilio's requests go when a test does not follow them: a valid empty answer."""
    return 200, b"<Response/>"


@pytest.fixture
def api():
    with TwilioApi(AUTH_TOKEN, deliver=nobody) as api:
        yield api
    assert not api.breaches, api.breaches  # callerid's own requests never break the description


def test_a_call_is_placed_through_the_configured_api_url(api):
    call = rest.client(settings(api)).calls.create(
        to=DESK, from_=LINE, url=f"{HOOKS}/voice", status_callback=f"{HOOKS}/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )  # fmt: skip
    assert call.sid.startswith("CA") and call.status == "queued"
    assert api.played[call.sid].params["To"] == DESK


def test_the_rest_client_gives_up_after_ten_seconds(api):
    assert rest.client(settings(api)).http_client.timeout == rest.TIMEOUT == 10


def test_an_api_key_is_used_when_one_is_set():
    key = ("SK" + "ab" * 16, "key-secret")
    with TwilioApi("not-the-token-in-use", api_key=key, deliver=nobody) as api:
        client = rest.client(settings(api, TWILIO_API_KEY_SID=key[0], TWILIO_API_KEY_SECRET=key[1]))
        assert client.calls.create(to=DESK, from_=LINE, twiml="<Response/>").sid


@pytest.mark.parametrize(
    ("path", "form", "breach"),
    [
        (CALLS, {"From": LINE, "Url": f"{HOOKS}/voice"}, "missing required To"),
        (CALLS, {"To": DESK, "From": LINE}, "one of Url, Twiml, ApplicationSid is required"),
        (
            CALLS,
            {"To": DESK, "From": LINE, "Url": f"{HOOKS}/v", "Colour": "red"},
            "unknown parameter",
        ),
        (
            CALLS,
            {"To": DESK, "From": LINE, "Url": f"{HOOKS}/v", "Method": "PUT"},
            "not one of GET, POST",
        ),
        (
            CALLS,
            {"To": DESK, "From": LINE, "Url": f"{HOOKS}/v", "Timeout": "soon"},
            "not an integer",
        ),
        (CALLS, {"To": DESK, "From": LINE, "Url": "/twilio/voice"}, "not an absolute http(s) URL"),
        (MESSAGES, {"To": ANNA, "Body": "Sorry"}, "one of From, MessagingServiceSid is required"),
        (MESSAGES, {"To": ANNA, "From": LINE, "MediaUrl": ""}, "one of Body, MediaUrl, ContentSid"),
    ],
)
def test_the_stand_in_refuses_a_request_that_breaks_twilios_description(path, form, breach):
    with TwilioApi(AUTH_TOKEN, deliver=nobody) as api:
        answer = requests.post(api.url + path, data=form, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert answer.status_code == 400
    assert breach in answer.json()["message"]
    assert api.breaches and breach in api.breaches[0]
    assert not api.played


def test_the_library_hears_a_breach_as_twilios_refusal(api):
    with pytest.raises(TwilioRestException) as refused:
        rest.client(settings(api)).calls.create(to=DESK, from_=LINE)
    assert refused.value.status == 400
    api.breaches.clear()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (20003, "refused our credentials"),
        (21210, "not a number of this Twilio account or a verified caller ID"),
        (21211, "not a valid phone number"),
        (21214, "cannot reach that number"),
        (21215, "no permission to call that country"),
        (21606, "cannot send texts"),
        (21610, "opted out of texts"),
        (30034, "registered A2P 10DLC campaign"),
    ],
)
def test_twilios_refusals_come_back_in_words(api, code, words):
    api.refuse(code)
    with pytest.raises(TwilioRestException) as refused:
        rest.client(settings(api)).calls.create(to=ANNA, from_=LINE, url=f"{HOOKS}/voice")
    assert refused.value.code == code
    assert words in rest.refusal(refused.value)


def test_a_wrong_auth_token_is_refused_as_twilio_does(api):
    with pytest.raises(TwilioRestException) as refused:
        rest.client(settings(api, TWILIO_AUTH_TOKEN="wrong")).calls.create(
            to=ANNA, from_=LINE, url=f"{HOOKS}/voice"
        )
    assert (refused.value.status, refused.value.code) == (401, 20003)


def test_missing_settings_are_named():
    with pytest.raises(rest.NotConfigured) as missing:
        rest.client({"TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    assert "TWILIO_ACCOUNT_SID" in rest.refusal(missing.value)
    with pytest.raises(rest.NotConfigured) as missing:
        rest.client({"TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    assert "TWILIO_AUTH_TOKEN" in str(missing.value)


def test_an_unreachable_twilio_is_said_so():
    assert "could not be reached" in rest.refusal(requests.ConnectionError())


def test_after_a_create_the_stand_in_plays_twilios_part_signed():
    heard: list[tuple[str, dict[str, str]]] = []

    def receiver(url, params, headers):
        assert RequestValidator(AUTH_TOKEN).validate(url, params, headers["X-Twilio-Signature"])
        heard.append((url, params))
        if url.endswith("/voice"):
            return 200, (
                f'<Response><Say>Calling back Anna</Say><Dial callerId="{LINE}" '
                f'action="{HOOKS}/dial#ct=1000"><Number statusCallback="{HOOKS}/leg" '
                f'statusCallbackEvent="answered completed">{ANNA}</Number></Dial></Response>'
            ).encode()
        return 204, b""

    with TwilioApi(AUTH_TOKEN, deliver=receiver) as api:
        api.callees[ANNA] = Callee(talk=42)
        call = rest.client(settings(api)).calls.create(
            to=DESK, from_=LINE, url=f"{HOOKS}/voice", status_callback=f"{HOOKS}/status",
            status_callback_event=["ringing", "answered", "completed"],
        )  # fmt: skip
        played = api.wait_until_played(call.sid)
    assert played.spoken == ["Calling back Anna"]
    steps = [
        (url.rsplit("/", 1)[1], p.get("CallStatus"), p.get("DialCallStatus")) for url, p in heard
    ]
    assert steps == [
        ("status", "ringing", None),
        ("voice", "in-progress", None),
        ("status", "in-progress", None),
        ("leg", "in-progress", None),
        ("leg", "completed", None),
        ("dial", "in-progress", "completed"),
        ("status", "completed", None),
    ]
    leg = heard[3][1]
    assert (leg["ParentCallSid"], leg["From"], leg["To"]) == (call.sid, LINE, ANNA)
    assert heard[-1][1]["CallDuration"] == "42"


def test_a_text_gets_its_signed_delivery_reports_with_twilios_error_code():
    heard: list[dict[str, str]] = []

    def receiver(url, params, headers):
        assert RequestValidator(AUTH_TOKEN).validate(url, params, headers["X-Twilio-Signature"])
        heard.append(params)
        return 204, b""

    with TwilioApi(AUTH_TOKEN, deliver=receiver) as api:
        api.texts[ANNA] = ("undelivered", 30034)
        text = rest.client(settings(api)).messages.create(
            to=ANNA, from_=LINE, body="Sorry we missed you", status_callback=f"{HOOKS}/sms"
        )
        api.wait_until_played(text.sid)
    assert text.sid.startswith("SM") and text.body == "Sorry we missed you"
    assert [(p["MessageStatus"], p.get("ErrorCode")) for p in heard] == [
        ("sent", None),
        ("undelivered", "30034"),
    ]
