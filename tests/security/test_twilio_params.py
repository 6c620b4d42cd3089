"""A correctly signed webhook is still refused when its parameters are not as Twilio sends them
(issue 13, finding 8): refused with 400, nothing written or spooled, counted and logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from callerid.models import Call, Event
from callerid.telephony import params

from ..factories import add_user, token_for
from ..metrics.scrape import webhooks
from ..twilio import post_signed, sample, signature, status_sequence

ACCOUNT = "AC3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f"  # the samples' account
REQUESTS = {
    "/twilio/voice": lambda: sample("voice-inbound-us"),
    "/twilio/status": lambda: status_sequence()[0],
    "/twilio/dial": lambda: sample("dial-action-no-answer"),
    "/twilio/voicemail": lambda: {
        **sample("dial-action-no-answer"),
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC3f/Recordings/RE1",
    },
}


def nothing_written(session, app) -> bool:
    spool = Path(app.config["CALLERID_SPOOL_PATH"] or Path(app.instance_path) / "spool")
    spooled = [p for p in spool.rglob("*") if p.is_file()] if spool.exists() else []
    calls = session.scalar(select(func.count()).select_from(Call))
    events = session.scalar(select(func.count()).select_from(Event))
    return calls == 0 and events == 0 and not spooled


@pytest.mark.parametrize("path", sorted(REQUESTS))
def test_every_sample_twilio_sends_passes_the_checks(client, path):
    assert post_signed(client, path, REQUESTS[path]()).status_code in (200, 204)


@pytest.mark.parametrize("name", ["voice-withheld", "voice-inbound-international"])
def test_withheld_and_international_callers_pass_the_checks(client, name):
    assert post_signed(client, "/twilio/voice", sample(name)).status_code == 200


@pytest.mark.parametrize(
    "caller", ["", "anonymous", "Restricted", "+266696687", "sip:desk@pbx.example.com", "client:al"]
)
def test_every_form_of_caller_twilio_sends_passes(client, caller):
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us", From=caller))
    assert response.status_code == 200


def test_a_re_split_callsid_is_refused_and_writes_nothing(app, client, session, caplog):
    # Same signed string as the genuine request: "CallSid" + "CA...CallStatusringing" is
    # "CallSid" + "CA..." + "CallStatus" + "ringing".
    genuine = sample("voice-inbound-us")
    forged = {k: v for k, v in genuine.items() if k != "CallStatus"}
    forged["CallSid"] = genuine["CallSid"] + "CallStatus" + genuine["CallStatus"]
    caplog.set_level(logging.WARNING)
    response = post_signed(client, "/twilio/voice", forged)
    assert response.status_code == 400
    assert "CallStatus" in response.get_data(as_text=True)
    assert nothing_written(session, app)
    refused = [r.getMessage() for r in caplog.records if "refused /twilio/voice" in r.getMessage()]
    assert refused and forged["CallSid"] in refused[0]


OUT_OF_SHAPE = [
    {"CallSid": None},
    {"AccountSid": None},
    {"From": None},
    {"To": None},
    {"CallStatus": None},
    {"Direction": None},
    {"ApiVersion": None},
    {"CallSid": "CA123"},
    {"CallSid": "CA" + "g" * 32},
    {"AccountSid": "AC" + "0" * 31},
    {"CallStatus": "answered"},
    {"Direction": "sideways"},
    {"From": "+1415555\x000134"},
    {"From": "sip:" + "a" * 200},
    {"To": "not a number"},
    {"ParentCallSid": "CAnope"},
    {"ApiVersion": "yesterday"},
]


def changed(params: dict[str, str], change: dict[str, str | None]) -> dict[str, str]:
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    return params


@pytest.mark.parametrize("path", sorted(REQUESTS))
@pytest.mark.parametrize("change", OUT_OF_SHAPE, ids=lambda change: repr(change)[:40])
def test_each_parameter_twilio_always_sends_is_required_in_its_shape(path, change):
    # The rules alone, on every route: the requests below show them applied to signed webhooks.
    form = MultiDict(changed(REQUESTS[path](), change))
    found = params.problems(path.rsplit("/", 1)[1], form)
    assert len(found) == 1 and next(iter(change)) in found[0]


@pytest.mark.parametrize("path", sorted(REQUESTS))
def test_a_signed_request_out_of_shape_is_refused(app, client, session, path):
    response = post_signed(client, path, changed(REQUESTS[path](), {"CallStatus": "bogus"}))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "CallStatus" in response.get_data(as_text=True)
    assert nothing_written(session, app)


@pytest.mark.parametrize("path", ["/twilio/dial", "/twilio/voicemail"])
def test_each_action_needs_its_own_parameter(app, client, session, path):
    own = "DialCallStatus" if path == "/twilio/dial" else "RecordingUrl"
    params = {k: v for k, v in REQUESTS[path]().items() if k != own}
    response = post_signed(client, path, params)
    assert response.status_code == 400
    assert own in response.get_data(as_text=True)
    assert nothing_written(session, app)


class _Repeated(MultiDict):
    getall = MultiDict.getlist  # what RequestValidator asks a repeated parameter's values with


def test_a_repeated_parameter_is_refused(app, client, session):
    body = [*sample("voice-inbound-us").items(), ("CallStatus", "completed")]
    signed = signature("http://localhost/twilio/voice", _Repeated(body))
    response = client.post(
        "/twilio/voice", data=MultiDict(body), headers={"X-Twilio-Signature": signed}
    )
    assert response.status_code == 400
    assert "CallStatus sent more than once" in response.get_data(as_text=True)
    assert nothing_written(session, app)


def test_unknown_extra_parameters_are_never_refused(client, session):
    params = {**sample("voice-inbound-us"), "SomethingTwilioAddsNextYear": "\x00 anything"}
    assert post_signed(client, "/twilio/voice", params).status_code == 200
    assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_another_account_is_refused_once_the_account_is_set(app, client, session):
    app.config["TWILIO_ACCOUNT_SID"] = "AC" + "1" * 32
    response = post_signed(client, "/twilio/voice", sample("voice-inbound-us"))
    assert response.status_code == 400
    assert "TWILIO_ACCOUNT_SID" in response.get_data(as_text=True)
    assert nothing_written(session, app)
    app.config["TWILIO_ACCOUNT_SID"] = ACCOUNT
    assert post_signed(client, "/twilio/voice", sample("voice-inbound-us")).status_code == 200


def test_refusals_are_counted_on_their_route(client, session):
    headers = {"Authorization": f"Bearer {token_for(session, add_user(session, 'ops'), 'metrics')}"}
    before = client.get("/metrics", headers=headers).get_data(as_text=True)
    post_signed(client, "/twilio/status", dict(status_sequence()[0], CallStatus="bogus"))
    after = client.get("/metrics", headers=headers).get_data(as_text=True)
    assert webhooks(after, "/twilio/status", "malformed") == (
        webhooks(before, "/twilio/status", "malformed") + 1
    )
