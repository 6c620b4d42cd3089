"""What the desk does from a card: notes, claims, acknowledgements, new callers, edits."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from callerid import screens
from callerid.models import AuditEntry, Call, Customer, Event, Note

from ..conftest import wait_for_positions
from ..factories import add_call, add_customer, add_user, call_sid, token_for
from ..twilio import post_signed, sample


def ring(client, raw_from: str = "+13125550187") -> str:
    params = sample("voice-inbound-us", CallSid=call_sid(), From=raw_from)
    assert post_signed(client, "/twilio/voice", params).status_code == 200
    return params["CallSid"]


def last_event(session) -> tuple[str, dict]:
    event = session.scalars(select(Event).order_by(Event.id.desc()).limit(1)).one()
    return event.kind, json.loads(event.data)


def test_notes_refuse_anonymous_requests(client, session):
    call = add_call(session)
    response = client.post(f"/api/calls/{call.call_sid}/notes", json={"body": "hi"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == 401


def test_a_note_and_an_outcome_are_saved_on_the_call(client, session, desk):
    anna = add_customer(session, "Anna Moors")
    call = add_call(session, anna)
    response = client.post(
        f"/api/calls/{call.call_sid}/notes",
        json={"body": "Table for 4, Friday 8 pm", "outcome": "booking"},
        headers=desk,
    )
    assert response.status_code == 201
    assert response.get_json()["note"]["author"] == "Anna"
    session.expire_all()
    note = session.scalars(select(Note)).one()
    assert (note.body, note.call_id, note.customer_id) == (
        "Table for 4, Friday 8 pm",
        call.id,
        anna.id,
    )
    assert session.get(Call, call.id).outcome == "booking"
    kind, data = last_event(session)
    assert kind == "call.noted"
    assert data["outcome"] == "booking" and data["note"]["body"] == "Table for 4, Friday 8 pm"


def test_an_outcome_alone_is_a_note_too(client, session, desk):
    call = add_call(session)
    response = client.post(
        f"/api/calls/{call.call_sid}/notes", json={"outcome": "question"}, headers=desk
    )
    assert response.status_code == 201
    assert response.get_json() == {"call_sid": call.call_sid, "outcome": "question", "note": None}


def test_an_unknown_outcome_is_refused(client, session, desk):
    call = add_call(session)
    response = client.post(
        f"/api/calls/{call.call_sid}/notes", json={"body": "x", "outcome": "sale"}, headers=desk
    )
    assert response.status_code == 400
    assert "booking, question, complaint, other" in response.get_json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(Note)) == 0


def test_a_bug_inside_the_notes_service_is_a_500_not_a_400_carrying_its_message(
    app, client, session, desk, monkeypatch
):
    # A ValueError from a bug (not a refusal the service names) must not read as the user's fault.
    def broken_card(*_args: object, **_kwargs: object) -> None:
        raise ValueError("bug: the card's inner detail")

    monkeypatch.setattr(screens, "card", broken_card)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not raise in the test
    call = add_call(session)
    response = client.post(f"/api/calls/{call.call_sid}/notes", json={"body": "x"}, headers=desk)
    assert response.status_code == 500
    assert "inner detail" not in response.get_data(as_text=True)


def test_a_note_on_an_unknown_call_is_not_found(client, desk):
    response = client.post("/api/calls/CAnope/notes", json={"body": "x"}, headers=desk)
    assert response.status_code == 404


def test_scripts_add_notes_with_a_bearer_token_and_no_csrf_token(client, session):
    token = token_for(session, add_user(session, "script", "staff"))
    call = add_call(session)
    response = client.post(
        f"/api/calls/{call.call_sid}/notes",
        json={"body": "from the CRM"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_session_writes_without_the_csrf_token_are_refused(client, session, desk):
    anna = add_customer(session, "Anna Moors")
    call = add_call(session, anna)
    plain = {"Accept": "application/json"}
    writes = [
        client.post(f"/api/calls/{call.call_sid}/notes", json={"body": "x"}, headers=plain),
        client.patch(f"/board/customers/{anna.id}", json={"vip": True}, headers=plain),
        client.post(f"/board/calls/{call.call_sid}/claim", headers=plain),
    ]
    assert [response.status_code for response in writes] == [403, 403, 403]
    assert "CSRF" in writes[1].get_json()["error"]["message"]
    session.expire_all()
    assert session.get(Customer, anna.id).is_vip is False
    assert session.scalar(select(func.count()).select_from(Note)) == 0


def test_cross_origin_session_writes_are_refused(client, session, desk):
    anna = add_customer(session, "Anna Moors")
    headers = {**desk, "Origin": "https://evil.example"}
    response = client.patch(f"/board/customers/{anna.id}", json={"vip": True}, headers=headers)
    assert response.status_code == 403


def test_staff_can_edit_a_customer_from_the_board(client, session, desk):
    anna = add_customer(session, "Anna Moors")
    sid = ring(client, "+14155550134")
    changes = {
        "name": "Anna Moors-Lee",
        "salutation": "Dr.",
        "preferred_name": "",
        "notes": "Allergic to peanuts",
        "vip": True,
        "do_not_greet": False,
    }
    response = client.patch(f"/board/customers/{anna.id}", json=changes, headers=desk)
    assert response.status_code == 200
    assert response.get_json()["customer"]["name"] == "Anna Moors-Lee"
    session.expire_all()
    saved = session.get(Customer, anna.id)
    assert (saved.salutation, saved.notes, saved.is_vip) == ("Dr.", "Allergic to peanuts", True)
    kind, data = last_event(session)
    assert kind == "customer.updated"
    assert data["customer_id"] == anna.id
    assert [card["call_sid"] for card in data["cards"]] == [sid]
    assert data["cards"][0]["greeting"] == "Welcome back, Dr. Moors-Lee"


def test_the_board_cannot_change_what_it_does_not_show(client, session, desk):
    anna = add_customer(session, "Anna Moors")
    ring(client, "+14155550134")  # on the board: staff edit only customers a card shows
    for changes in ({"email": "a@example.com"}, {"vip": "yes"}, {"name": "  "}):
        response = client.patch(f"/board/customers/{anna.id}", json=changes, headers=desk)
        assert response.status_code == 400, changes
    assert client.patch("/board/customers/999", json={}, headers=desk).status_code == 404


def test_ive_got_it_answers_the_call_in_the_users_name(client, session, desk):
    sid = ring(client)
    response = client.post(f"/board/calls/{sid}/claim", headers=desk)
    assert response.get_json() == {"claimed": True, "answered_by": "Anna", "status": "in-progress"}
    answered, claimed = session.scalars(select(Event).order_by(Event.id.desc()).limit(2)).all()[
        ::-1
    ]
    assert (answered.kind, json.loads(answered.data)["answered_by"]) == ("call.answered", "Anna")
    assert claimed.kind == "call.claimed"
    again = client.post(f"/board/calls/{sid}/claim", headers=desk).get_json()
    assert again["claimed"] is False and again["answered_by"] == "Anna"


def test_a_claim_names_the_screen_that_took_the_call(client, session, desk):
    sid = ring(client)
    client.post(f"/board/calls/{sid}/claim", json={"screen": "tab-1"}, headers=desk)
    kind, data = last_event(session)
    assert (kind, data) == (
        "call.claimed",
        {"call_sid": sid, "claimed_by": "Anna", "screen": "tab-1"},
    )
    live = client.get("/board/live").get_json()["live"]
    assert [card["claimed"] for card in live] == [data]


def test_the_first_screen_to_show_a_card_sets_when_it_was_shown(client, session, desk):
    sid = ring(client)
    assert client.post(f"/board/calls/{sid}/shown", headers=desk).status_code == 204
    session.expire_all()
    first = session.scalar(select(Call.card_shown_at))
    assert first is not None
    client.post(f"/board/calls/{sid}/shown", headers=desk)
    session.expire_all()
    assert session.scalar(select(Call.card_shown_at)) == first


def test_saving_a_new_callers_name_greets_them_on_their_next_call(client, session, desk):
    sid = ring(client, "+14155550134")
    response = client.post(
        f"/board/calls/{sid}/caller", json={"name": "Jamie Rivera"}, headers=desk
    )
    assert response.status_code == 201
    kind, data = last_event(session)
    assert kind == "customer.updated"
    assert data["cards"][0]["greeting"] == "Welcome back, Jamie"
    session.expire_all()
    assert session.scalar(select(Call.customer_id)) == response.get_json()["customer_id"]

    params = sample("voice-inbound-us", CallSid=call_sid(), From="(415) 555-0134")
    post_signed(client, "/twilio/voice", params)
    kind, data = last_event(session)
    assert (kind, data["greeting"]) == ("call.ringing", "Welcome back, Jamie")


def test_a_known_or_withheld_caller_cannot_be_saved_again(client, session, desk):
    add_customer(session, "Anna Moors", numbers=("+13125550187",))
    known = ring(client)
    response = client.post(f"/board/calls/{known}/caller", json={"name": "X"}, headers=desk)
    assert response.status_code == 409
    withheld = sample("voice-withheld")
    post_signed(client, "/twilio/voice", withheld)
    response = client.post(
        f"/board/calls/{withheld['CallSid']}/caller", json={"name": "X"}, headers=desk
    )
    assert response.status_code == 400


def test_the_snapshot_has_live_and_recent_calls_and_where_the_stream_starts(
    client, session, desk, positions
):
    anna = add_customer(session, "Anna Moors")
    add_call(session, anna)  # yesterday: on the card's history, not on the board
    ended = ring(client, "+13125550111")
    post_signed(
        client,
        "/twilio/status",
        sample("voice-inbound-us", CallSid=ended, CallStatus="no-answer", From="+13125550111"),
    )
    ringing = ring(client, "+14155550134")
    client.post(f"/api/calls/{ringing}/notes", json={"body": "asked for Tom"}, headers=desk)
    wait_for_positions(session)
    snapshot = client.get("/board/live", headers=desk).get_json()
    assert [card["call_sid"] for card in snapshot["live"]] == [ringing]
    assert [card["call_sid"] for card in snapshot["recent"]] == [ended]
    assert snapshot["recent"][0]["is_missed"] is True
    assert snapshot["live"][0]["greeting"] == "Welcome back, Anna"
    assert snapshot["live"][0]["call_notes"][0]["body"] == "asked for Tom"
    assert snapshot["position"] == session.scalar(select(func.max(Event.position)))
    assert snapshot["lines"] == [{"number": "+12025550143", "label": ""}]
    assert snapshot["user"] == {"name": "Anna"}


def test_the_desk_sets_alerts_and_the_hint_and_every_card_shows_them(client, session, desk):
    anna = add_customer(session, "Anna Nguyen", numbers=("+13125550187",))
    ring(client)
    changes = {"alerts": "Severe peanut allergy", "pronunciation": "Nguyen: say 'win'"}
    response = client.patch(f"/board/customers/{anna.id}", json=changes, headers=desk)
    assert response.status_code == 200
    kind, data = last_event(session)
    assert kind == "customer.updated"
    shown = data["cards"][0]["customer"]
    assert (shown["alerts"], shown["pronunciation"]) == (
        changes["alerts"],
        changes["pronunciation"],
    )
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "customer.update"))
    assert (entry.actor, entry.detail) == ("Anna", "changed alerts, pronunciation")
    too_long = client.patch(f"/board/customers/{anna.id}", json={"alerts": "x" * 301}, headers=desk)
    assert too_long.status_code == 400
    assert too_long.get_json()["error"]["message"] == "alerts has at most 300 characters"
