"""Call back in one click: POST /api/calls/<sid>/call-back against the tests' stand-in for
Twilio's REST API, which rings the staff phone, requests our TwiML and reports both legs back to
us, signed, as Twilio would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from callerid.models import Call, Callback, Event

from ..conftest import DESK
from ..factories import add_call, add_customer, add_user
from ..twilio import AUTH_TOKEN
from ..twilio_api import ACCOUNT_SID, Callee, TwilioApi, through
from .conftest import bearer

ANNA = "+14155550134"
LINE = "+12025550143"
STAFF_PHONE = "+12025550111"


@pytest.fixture
def twilio(app) -> Iterator[TwilioApi]:
    with TwilioApi(AUTH_TOKEN, deliver=through(app.test_client())) as api:
        app.config.update(
            CALLERID_CALLBACKS=True,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            CALLERID_TWILIO_API_URL=api.url,
        )
        yield api
    assert not api.breaches, api.breaches


@pytest.fixture
def desk(session) -> dict[str, str]:
    headers = bearer(session, "desk", "staff")
    from callerid.auth.users import find

    find(session, "desk").phone = STAFF_PHONE
    session.commit()
    return headers


def missed_call(session, **fields):
    anna = add_customer(session, "Anna Moors", numbers=(ANNA,))
    return add_call(session, anna, status="no-answer", is_missed=True, line=LINE, **fields)


def call_back(client, call, headers):
    return client.post(f"/api/calls/{call.call_sid}/call-back", headers=headers)


def finished(session, seconds: float = 10) -> Callback:
    """The call-back once it has ended and its placing is done."""
    deadline = time.monotonic() + seconds
    while True:
        session.rollback()
        callback = session.scalar(select(Callback))
        if callback is not None and callback.ended_at and callback.status == "ended":
            if callback.staff_call_sid or callback.outcome == "failed":
                return callback
        assert time.monotonic() < deadline, "the call-back did not end"
        time.sleep(0.02)


def events_of(session) -> list[tuple[str, dict]]:
    session.rollback()
    rows = session.execute(select(Event.kind, Event.data).order_by(Event.id)).all()
    return [(kind, json.loads(data)) for kind, data in rows]


def test_the_button_answers_at_once_and_the_call_back_closes_the_missed_calls(
    client, session, twilio, desk
):
    call = missed_call(session)
    twilio.callees[ANNA] = Callee(talk=42)
    response = call_back(client, call, desk)
    assert response.status_code == 202
    started = response.get_json()["callback"]
    assert started["direction"] == "outbound"
    assert started["words"] == "Calling back Anna Moors, by desk: ringing desk's phone"
    callback = finished(session)
    assert (callback.outcome, callback.duration) == ("talked", 42)
    # Twilio was asked to ring the staff phone first, from the line the customer called.
    (played,) = twilio.played.values()
    assert (played.params["To"], played.params["From"]) == (STAFF_PHONE, LINE)
    assert played.spoken == ["Calling back Anna Moors."]
    # ... and then the customer, showing that line.
    customer_leg = [p for _, p, _ in played.requests if p.get("ParentCallSid")]
    assert customer_leg and {(p["To"], p["From"]) for p in customer_leg} == {(ANNA, LINE)}
    assert all(status == 204 for url, _, status in played.requests if "status" in url)
    session.refresh(call)
    assert call.called_back_by == "desk"
    answer = client.get(f"/api/callbacks/{callback.id}", headers=desk).get_json()["callback"]
    assert answer["words"] == "desk called back Anna Moors (42 s)"


def test_a_call_back_is_never_a_call_we_received(client, session, twilio, desk):
    call = missed_call(session)
    calls_before = session.scalar(select(func.count()).select_from(Call))
    call_back(client, call, desk)
    finished(session)
    kinds = [kind for kind, _ in events_of(session)]
    assert kinds == ["callback.started", "callback.answered", "call.called_back", "callback.ended"]
    assert all(
        data["direction"] == "outbound" for kind, data in events_of(session) if "back." in kind
    )
    assert session.scalar(select(func.count()).select_from(Call)) == calls_before
    assert client.get("/api/missed/count", headers=desk).get_json()["open_callers"] == 0


def test_a_customer_who_does_not_answer_still_waits(client, session, twilio, desk):
    call = missed_call(session)
    twilio.callees[ANNA] = Callee(answers=False)
    call_back(client, call, desk)
    callback = finished(session)
    assert callback.outcome == "customer-missed"
    assert client.get("/api/missed/count", headers=desk).get_json()["open_callers"] == 1
    ended = events_of(session)[-1][1]
    assert ended["words"] == "Anna Moors did not answer desk's call-back"


def test_a_staff_phone_that_does_not_answer_never_rings_the_customer(client, session, twilio, desk):
    call = missed_call(session)
    twilio.callees[STAFF_PHONE] = Callee(answers=False)
    call_back(client, call, desk)
    callback = finished(session)
    assert callback.outcome == "staff-missed"
    (played,) = twilio.played.values()
    assert not any(p.get("ParentCallSid") for _, p, _ in played.requests)


def test_without_a_phone_of_their_own_the_desk_is_rung(client, session, twilio):
    call = missed_call(session)
    call_back(client, call, bearer(session, "sam", "staff"))
    finished(session)
    (played,) = twilio.played.values()
    assert played.params["To"] == DESK


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (20003, "Twilio refused our credentials"),
        (21210, "not a number of this Twilio account or a verified caller ID"),
        (21214, "Twilio cannot reach that number"),
        (21215, "no permission to call that country"),
    ],
)
def test_twilios_refusal_is_told_in_words(client, session, twilio, desk, code, words):
    call = missed_call(session)
    twilio.refuse(code)
    call_back(client, call, desk)
    callback = finished(session)
    assert callback.outcome == "failed" and words in callback.detail
    answer = client.get(f"/api/callbacks/{callback.id}", headers=desk).get_json()["callback"]
    assert answer["words"].startswith("The call-back to Anna Moors failed: ")
    assert client.get("/api/missed/count", headers=desk).get_json()["open_callers"] == 1


def test_one_call_back_per_caller_at_a_time(client, session, twilio, desk):
    call = missed_call(session)
    twilio.callees[STAFF_PHONE] = Callee(ring=0.5)
    assert call_back(client, call, desk).status_code == 202
    again = call_back(client, call, bearer(session, "sam", "staff"))
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "desk is already calling back Anna Moors."
    # A screen opened meanwhile shows it from the start, not from its next event.
    (under_way,) = client.get("/board/live", headers=desk).get_json()["callbacks"]
    assert (under_way["to"], under_way["by"], under_way["ended_at"]) == (ANNA, "desk", None)
    assert under_way["words"].startswith("Calling back Anna Moors, by desk")
    finished(session)
    assert client.get("/board/live", headers=desk).get_json()["callbacks"] == []
    assert call_back(client, call, desk).status_code == 202  # once it is over, again
    assert len(twilio.played) >= 1


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"CALLERID_CALLBACKS": False}, "Call-backs are off on this server"),
        ({"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID is not set"),
        ({"CALLERID_FORWARD_TO": None}, "There is no phone to ring for you"),
    ],
)
def test_what_is_missing_is_said(client, session, twilio, setting, message):
    call = missed_call(session)
    client.application.config.update(setting)
    answer = call_back(client, call, bearer(session, "sam", "staff"))
    assert answer.status_code == 409
    assert message in answer.get_json()["error"]["message"]
    assert not twilio.played


def test_a_withheld_caller_cannot_be_called_back(client, session, twilio, desk):
    call = add_call(session, from_number=None, status="no-answer", is_missed=True)
    call.from_number, call.caller_kind = None, "withheld"
    session.commit()
    answer = call_back(client, call, desk)
    assert answer.status_code == 409
    assert "withheld" in answer.get_json()["error"]["message"]


def test_an_unknown_call_is_not_found(client, twilio, desk):
    assert client.post("/api/calls/CAnope/call-back", headers=desk).status_code == 404
    assert client.get("/api/callbacks/999", headers=desk).status_code == 404


def test_the_staff_phone_is_set_with_the_cli(app, session):
    add_user(session, "anna")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "phone", "anna", "(202) 555-0111"])
    assert result.exit_code == 0, result.output
    assert "anna's call-backs ring +12025550111" in result.output
    refused = runner.invoke(args=["users", "phone", "anna", "12"])
    assert refused.exit_code == 1 and "cannot be rung" in refused.output
    cleared = runner.invoke(args=["users", "phone", "anna", ""])
    assert f"ring none: the front desk ({DESK})" in cleared.output


def test_a_customer_on_another_of_their_numbers_is_one_caller(client, session, twilio, desk):
    call = missed_call(session)
    other = add_call(session, call.customer, from_number="+13125550187", status="no-answer")
    twilio.callees[STAFF_PHONE] = Callee(ring=0.5)
    assert call_back(client, call, desk).status_code == 202
    again = call_back(client, other, bearer(session, "sam", "staff"))
    assert again.get_json()["error"]["message"] == "desk is already calling back Anna Moors."
    # A screen opened meanwhile shows it from the start, not from its next event.
    (under_way,) = client.get("/board/live", headers=desk).get_json()["callbacks"]
    assert (under_way["to"], under_way["by"], under_way["ended_at"]) == (ANNA, "desk", None)
    assert under_way["words"].startswith("Calling back Anna Moors, by desk")
    finished(session)
    assert client.get("/board/live", headers=desk).get_json()["callbacks"] == []
