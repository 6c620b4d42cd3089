"""What an endpoint receives: the board's event less what it may not see; Slack's sentence."""

from __future__ import annotations

import json

import pytest

from callerid.webhooks import payloads

CARD = {
    "call_sid": "CA1",
    "status": "ringing",
    "from": "+14155550134",
    "line": {"number": "+12025550143", "label": "Downtown"},
    "greeting": "Welcome back, Mrs. Moors",
    "customer": {
        "id": 7,
        "name": "Anna Moors",
        "salutation": "Mrs.",
        "vip": True,
        "alerts": "Severe peanut allergy",
        "notes": "Likes the window table",
        "preferences": "Sparkling water",
        "numbers": ["+14155550134"],
        "birthday": "1970-02-01",
        "do_not_greet": False,
    },
    "also": [{"id": 8, "name": "Ben Moors"}],
}


def present(customer_id: int) -> payloads.Customer:
    return payloads.Customer(exists=True, do_not_greet=False)


def test_by_default_an_endpoint_gets_names_and_vip_but_no_alerts_notes_or_numbers():
    shown = payloads.visible(CARD, share_alerts=False, share_notes=False, now=present)
    assert shown["customer"] == {"id": 7, "name": "Anna Moors", "salutation": "Mrs.", "vip": True}
    assert shown["also"] == [{"id": 8}]
    assert shown["greeting"] == "Welcome back, Mrs. Moors"


def test_alerts_and_notes_go_only_when_ticked():
    shown = payloads.visible(CARD, share_alerts=True, share_notes=True, now=present)
    assert shown["customer"]["alerts"] == "Severe peanut allergy"
    assert shown["customer"]["notes"] == "Likes the window table"
    noted = payloads.visible({**CARD, "note": {"body": "Booked"}}, share_alerts=False,
                             share_notes=False, now=present)  # fmt: skip
    assert noted["note"] is None


@pytest.mark.parametrize("when", ["in the event", "since the event"])
def test_a_customer_who_asked_not_to_be_greeted_is_never_named(when):
    card = json.loads(json.dumps(CARD))
    now = present
    if when == "in the event":
        card["customer"]["do_not_greet"] = True
    else:
        now = lambda _id: payloads.Customer(exists=True, do_not_greet=True)  # noqa: E731
    shown = payloads.visible(card, share_alerts=True, share_notes=True, now=now)
    assert shown["customer"] == {"id": 7, "do_not_greet": True}
    assert "Moors" not in json.dumps(shown)


def test_an_erased_customer_is_removed_from_cards_of_an_update_too():
    gone = lambda _id: payloads.Customer(exists=False, do_not_greet=False)  # noqa: E731
    update = {"customer_id": 7, "customer": CARD["customer"], "cards": [CARD]}
    shown = payloads.visible(update, share_alerts=True, share_notes=True, now=gone)
    assert shown["customer"] is None and shown["cards"][0]["customer"] is None
    assert "Moors" not in json.dumps({**shown, "cards": [{**shown["cards"][0], "also": []}]})


def test_a_missed_call_also_makes_a_call_missed_delivery():
    missed = {**CARD, "is_missed": True}
    assert payloads.kinds_for("call.ended", missed, ["call.ended", "call.missed"]) == [
        "call.ended",
        "call.missed",
    ]
    assert payloads.kinds_for("call.ended", missed, ["call.missed"]) == ["call.missed"]
    assert payloads.kinds_for("call.ended", CARD, ["call.missed"]) == []


def test_slack_hears_who_calls_which_line():
    shown = payloads.visible(CARD, share_alerts=False, share_notes=False, now=present)
    body = json.loads(payloads.slack_body("call.ringing", shown))
    assert body == {"text": "Mrs. Moors (VIP) is calling Downtown"}


def test_slack_text_escapes_customer_text_and_breaks_mentions():
    card = json.loads(json.dumps(CARD))
    card["greeting"] = "Welcome back, <!channel> & <https://evil.example|click> @here"
    text = payloads.slack_text("call.ringing", card)
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "@here" not in text and "@\u200bhere" in text


@pytest.mark.parametrize(
    ("kind", "extra", "text"),
    [
        ("call.answered", {"answered_by": "Marco"}, "Mrs. Moors (VIP): answered by Marco"),
        ("call.missed", {"is_missed": True}, "Missed call from Mrs. Moors (VIP) on Downtown"),
        ("call.ended", {}, "Mrs. Moors (VIP): call ended"),
        ("call.noted", {"note": {"body": "Table 4"}}, "Mrs. Moors (VIP): note on the call: Table 4"),  # noqa: E501
        ("call.called_back", {"called_back_by": "Sam"}, "A missed call was called back by Sam"),
        ("customer.updated", {"erased": True}, "A customer was erased"),
        ("customer.updated", {}, "Mrs. Moors (VIP): details changed"),
    ],
)  # fmt: skip
def test_slack_says_each_event_in_a_sentence(kind, extra, text):
    assert payloads.slack_text(kind, {**CARD, **extra}) == text


def test_slack_names_a_stranger_by_number_and_a_withheld_caller_not_at_all():
    stranger = {**CARD, "customer": None, "caller": {"display": "(415) 555-0134"}}
    assert payloads.slack_text("call.ringing", stranger) == (
        "A new caller ((415) 555-0134) is calling Downtown"
    )
    withheld = {**CARD, "customer": None, "from": None}
    assert payloads.slack_text("call.ringing", withheld) == "A withheld number is calling Downtown"
