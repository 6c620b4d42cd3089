"""flask simulate call, without a server: what it sends, how it reads TwiML, how it fails.
Calls against real gunicorn are in tests/e2e/test_simulate.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from callerid import create_app, numbers
from callerid.cli import simulate
from callerid.cli.simulate import answers, forms
from callerid.telephony import twiml

from ..conftest import DESK, settings_for
from ..pg import free_port

STATUS_URL = "http://127.0.0.1:8000/twilio/status"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    # simulate never touches the database: one engine is enough for these tests.
    return create_app(settings_for(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path / "i"))


def nowhere() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_the_voice_webhook_carries_what_twilio_sends_including_empty_places():
    params = forms.voice_params(forms.new_call_sid(), "+14155550134", "+12025550143")
    assert params["AccountSid"].startswith("AC") and len(params["AccountSid"]) == 34
    assert params["ApiVersion"] == "2010-04-01"
    assert (params["Direction"], params["CallStatus"]) == ("inbound", "ringing")
    assert params["Caller"] == params["From"] == "+14155550134"
    assert params["FromCity"] == params["CalledZip"] == ""
    assert params["FromCountry"] == "US"


def test_every_call_gets_a_fresh_twilio_shaped_call_sid():
    first, second = forms.new_call_sid(), forms.new_call_sid()
    assert re.fullmatch(r"CA[0-9a-f]{32}", first) and first != second


def test_a_dial_reads_as_plain_words():
    caller = numbers.normalise("+14155550134")
    body = twiml.dial({"CALLERID_FORWARD_TO": DESK}, caller, STATUS_URL, STATUS_URL)
    assert answers.say(ET.fromstring(body), "US") == (
        f"Twilio would dial {DESK} (ringing up to 20 s); caller shown as (415) 555-0134"
    )


def test_the_dial_names_where_the_desk_leg_reports():
    body = twiml.dial(
        {"CALLERID_FORWARD_TO": "client:anna"}, numbers.normalise(""), STATUS_URL, STATUS_URL
    )
    dial = answers.find_dial(ET.fromstring(body), "http://127.0.0.1:8000/twilio/voice")
    assert dial is not None
    assert (dial.target, dial.caller_id) == ("client:anna", None)
    assert dial.action == dial.status_callback == STATUS_URL
    assert dial.events == {"initiated", "ringing", "answered", "completed"}


def test_no_desk_reads_as_the_message_then_goodbye():
    body = twiml.no_answer({"CALLERID_NO_ANSWER_MESSAGE": "We are closed."})
    assert (
        answers.say(ET.fromstring(body), "US") == 'Twilio would say "We are closed.", then hang up'
    )


@pytest.mark.parametrize(
    ("raw_from", "sent"),
    [
        ("(415) 555-0134", "+14155550134"),
        ("+44 20 7946 0958", "+442079460958"),
        ("anonymous", "Anonymous"),
        ("Restricted", "Restricted"),
        ("+266696687", "+266696687"),
    ],
)
def test_from_is_sent_as_twilio_would_write_it(raw_from, sent):
    assert simulate._caller_id(raw_from, "US") == sent


def test_signatures_are_made_over_the_url_twilio_would_call(app, monkeypatch):
    seen = {}

    def post(url, data, headers, timeout):
        seen.update(url=url, data=data, signature=headers["X-Twilio-Signature"])
        raise simulate.requests.ConnectionError("stop here")

    twilio = simulate.Twilio(
        "http://127.0.0.1:9", "https://desk.example.com", "tok", pause=lambda s: None
    )
    monkeypatch.setattr(twilio.http, "post", post)
    with pytest.raises(simulate.ServerRefused):
        twilio.post("https://desk.example.com/twilio/voice", {"CallSid": "CA1"}, "voice")
    assert seen["url"] == "http://127.0.0.1:9/twilio/voice"
    validator = RequestValidator("tok")
    assert validator.validate(
        "https://desk.example.com/twilio/voice", seen["data"], seen["signature"]
    )


def test_text_that_is_no_number_is_a_usage_error(app):
    result = app.test_cli_runner().invoke(args=["simulate", "call", "hello", "--fast"])
    assert result.exit_code == 2
    assert "'hello' is not a valid phone number" in result.output


def test_an_unreachable_server_is_a_clear_error(app):
    url = nowhere()
    result = app.test_cli_runner().invoke(args=["simulate", "call", "+14155550134", "--url", url])
    assert result.exit_code == 1
    assert f"cannot reach {url}" in result.output and "is the server running?" in result.output


def test_without_any_token_it_says_where_one_comes_from(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "i")
    app = create_app({**settings, "TWILIO_AUTH_TOKEN": None})
    result = app.test_cli_runner().invoke(args=["simulate", "call", "+14155550134", "--fast"])
    assert result.exit_code == 1
    assert "no Twilio auth token" in result.output and "scripts/run" in result.output


def test_the_development_token_of_scripts_run_is_found(tmp_path):
    settings = settings_for(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "i")
    app = create_app({**settings, "TWILIO_AUTH_TOKEN": None})
    (tmp_path / "i" / simulate.DEV_TOKEN_FILE).write_text("dev-token\n")
    args = ["simulate", "call", "+14155550134", "--url", nowhere()]
    result = app.test_cli_runner().invoke(args=args)
    assert "cannot reach" in result.output  # it got as far as posting, so it had a token
