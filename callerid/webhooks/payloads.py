"""What an endpoint receives for an event: the board's event JSON less what the endpoint may
not see, in the Standard Webhooks body, or one line of text for Slack-compatible channels."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# The board's events, call.missed (sent for a call.ended with is_missed) and the call-back
# events of the call-backs issue, so that an endpoint can subscribe before they exist.
EVENT_TYPES = (
    "call.ringing",
    "call.answered",
    "call.ended",
    "call.missed",
    "call.noted",
    "call.called_back",
    "customer.updated",
    "callback.started",
    "callback.answered",
    "callback.ended",
)
FORMATS = ("standard", "slack")
# A customer's fields every endpoint may see; alerts, notes and preferences only when ticked.
_NAMED = ("id", "name", "salutation", "preferred_name", "vip", "calls_count", "last_call_at")
NEUTRAL_GREETING = "Thank you for calling"
# What "send a test event" sends: a ringing card for a fictional caller.
SAMPLE: dict[str, Any] = {
    "call_sid": "CA00000000000000000000000000000000",
    "status": "ringing",
    "from": "+15005550006",
    "to": "+15005550001",
    "line": {"number": "+15005550001", "label": "Test line"},
    "greeting": "Welcome back, Ms. Example",
    "customer": {"id": 0, "name": "Test Example", "salutation": "Ms.", "vip": True},
    "also": [],
    "test": True,
}


class Customer:
    """How a customer stands now (at sending time): gone or erased, or not to be named."""

    def __init__(self, exists: bool, do_not_greet: bool) -> None:
        self.exists, self.do_not_greet = exists, do_not_greet


def kinds_for(kind: str, data: dict[str, Any], subscribed: list[str]) -> list[str]:
    """The deliveries an event makes for an endpoint subscribed to ``subscribed``: its own
    kind, and ``call.missed`` for a missed ``call.ended``."""
    found = [kind] if kind in subscribed else []
    if kind == "call.ended" and data.get("is_missed") and "call.missed" in subscribed:
        found.append("call.missed")
    return found


def visible(
    data: dict[str, Any],
    *,
    share_alerts: bool,
    share_notes: bool,
    now: Callable[[int], Customer],
) -> dict[str, Any]:
    """``data`` less what the endpoint may not see. ``now(customer_id)`` says how a customer
    stands at sending time: an erased one is removed, a do-not-greet one is never named."""
    shown = dict(data)
    if isinstance(shown.get("customer"), dict):
        shown["customer"] = _customer(shown["customer"], share_alerts, share_notes, now)
        if shown["customer"] is None or "name" not in shown["customer"]:
            shown["greeting"] = NEUTRAL_GREETING
    if isinstance(shown.get("also"), list):
        shown["also"] = [{"id": other.get("id")} for other in shown["also"]]
    if isinstance(shown.get("cards"), list):
        shown["cards"] = [
            visible(card, share_alerts=share_alerts, share_notes=share_notes, now=now)
            for card in shown["cards"]
            if isinstance(card, dict)
        ]
    if "note" in shown and not share_notes:
        shown["note"] = None
    return shown


def _customer(
    customer: dict[str, Any],
    share_alerts: bool,
    share_notes: bool,
    now: Callable[[int], Customer],
) -> dict[str, Any] | None:
    state = now(customer.get("id") or 0) if customer.get("id") else Customer(True, False)
    if not state.exists:
        return None
    if state.do_not_greet or customer.get("do_not_greet"):
        return {"id": customer.get("id"), "do_not_greet": True}
    shown = {key: customer[key] for key in _NAMED if key in customer}
    if share_alerts:
        shown["alerts"] = customer.get("alerts", "")
    if share_notes:
        shown["notes"] = customer.get("notes", "")
        shown["preferences"] = customer.get("preferences", "")
    return shown


def standard_body(kind: str, happened_at: str, data: dict[str, Any]) -> bytes:
    """The Standard Webhooks body: ``{"type", "timestamp", "data"}``."""
    body = {"type": kind, "timestamp": happened_at, "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def slack_body(kind: str, data: dict[str, Any]) -> bytes:
    """``{"text": ...}`` for Slack, Mattermost and the like: one sentence, customer text
    escaped as Slack asks (&, <, >) and with mentions broken, so no customer can write a link
    or ping a channel through it."""
    return json.dumps({"text": slack_text(kind, data)}, ensure_ascii=False).encode()


def slack_text(kind: str, data: dict[str, Any]) -> str:
    who, line = _who(data), _line(data)
    on_line = f" {line}" if line else ""
    if kind == "webhook.test":
        return "Test from callerid: " + slack_text("call.ringing", data)
    if kind == "call.ringing":
        alerts = (data.get("customer") or {}).get("alerts")
        return f"{who} is calling{on_line}" + (f" · Alert: {_escape(alerts)}" if alerts else "")
    if kind == "call.answered":
        by = _escape(data.get("answered_by") or "")
        return f"{who}: answered" + (f" by {by}" if by else "")
    if kind == "call.missed" or (kind == "call.ended" and data.get("is_missed")):
        return f"Missed call from {who}" + (f" on {line}" if line else "")
    if kind == "call.ended":
        return f"{who}: call ended"
    if kind == "call.noted":
        note = (data.get("note") or {}).get("body")
        return f"{who}: note on the call" + (f": {_escape(note)}" if note else "")
    if kind == "call.called_back":
        by = _escape(data.get("called_back_by") or data.get("undone_by") or "")
        return "A missed call was called back" + (f" by {by}" if by else "")
    if kind == "customer.updated":
        return "A customer was erased" if data.get("erased") else f"{who}: details changed"
    return f"{who}: {kind}"


def _who(data: dict[str, Any]) -> str:
    customer = data.get("customer")
    if isinstance(customer, dict) and customer.get("name"):
        greeting = data.get("greeting") or ""
        # "Welcome back, Mrs. Moors" -> "Mrs. Moors": how the desk says the name.
        name = greeting.split(", ", 1)[1] if ", " in greeting else customer["name"]
        return _escape(name) + (" (VIP)" if customer.get("vip") else "")
    if data.get("from"):
        caller = data.get("caller") or {}
        return f"A new caller ({_escape(caller.get('display') or data['from'])})"
    if data.get("call_sid") or data.get("status"):
        return "A withheld number"
    return "A customer"


def _line(data: dict[str, Any]) -> str:
    line = data.get("line") or {}
    return _escape(line.get("label") or line.get("number") or "")


def _escape(text: str) -> str:
    # https://api.slack.com/reference/surfaces/formatting#escaping; a zero-width space after
    # "@" keeps "@channel" or "@here" from pinging in Mattermost, which reads them in text.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("@", "@\u200b")
