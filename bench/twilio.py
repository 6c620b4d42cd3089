"""Webhook requests signed exactly as Twilio signs them, built before any clock starts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from .server import AUTH_TOKEN, DESK

# A real incoming-call webhook's parameters (tests/samples/twilio/voice-inbound-us.json):
# Twilio sends about thirty, and every one of them is part of the signature.
VOICE = {
    "AccountSid": "AC3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f",
    "ApiVersion": "2010-04-01",
    "CallSid": "",
    "CallStatus": "ringing",
    "Called": "+12025550143",
    "CalledCity": "WASHINGTON",
    "CalledCountry": "US",
    "CalledState": "DC",
    "CalledZip": "20001",
    "Caller": "",
    "CallerCity": "CHICAGO",
    "CallerCountry": "US",
    "CallerState": "IL",
    "CallerZip": "60601",
    "Direction": "inbound",
    "From": "",
    "FromCity": "CHICAGO",
    "FromCountry": "US",
    "FromState": "IL",
    "FromZip": "60601",
    "To": "+12025550143",
    "ToCity": "WASHINGTON",
    "ToCountry": "US",
    "ToState": "DC",
    "ToZip": "20001",
    "StirVerstat": "TN-Validation-Passed-A",
    "CallToken": "%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9.e30.sig%22%7D",
}
STATUS = {
    "AccountSid": VOICE["AccountSid"],
    "ApiVersion": "2010-04-01",
    "CallSid": "",
    "CallStatus": "",
    "Called": VOICE["Called"],
    "Caller": "",
    "Direction": "inbound",
    "From": "",
    "To": VOICE["To"],
    "SequenceNumber": "0",
    "Timestamp": "",
}

# The public name every instance answers to behind the balancer (CALLERID_PUBLIC_URL): Twilio
# signs the URL it called, whichever instance the balancer hands the request to.
PUBLIC_HOST = "callerid.bench"

_run = itertools.count()


@dataclass(frozen=True, slots=True)
class Signed:
    """One webhook: its path, form body and signature; ``raw`` is the whole HTTP request."""

    call_sid: str
    path: str
    body: bytes
    signature: str
    raw: bytes


def call_sids(count: int) -> list[str]:
    """``count`` CallSids no earlier run used (34 characters, like Twilio's)."""
    prefix = f"CA{os.getpid():06x}{next(_run):04x}{os.urandom(4).hex()}"
    return [f"{prefix}{n:014x}"[:34] for n in range(count)]


def sign(host: str, path: str, params: dict[str, str], call_sid: str) -> Signed:
    """Sign ``params`` for http://HOST/PATH as Twilio would and frame the HTTP request."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://{host}{path}", params)
    body = urlencode(params).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return Signed(call_sid, path, body, signature, head.encode() + body)


def voice(host: str, call_sid: str, from_number: str) -> Signed:
    params = {**VOICE, "CallSid": call_sid, "From": from_number, "Caller": from_number}
    return sign(host, "/twilio/voice", params, call_sid)


def status(host: str, call_sid: str, from_number: str, call_status: str, sequence: int) -> Signed:
    params = {
        **STATUS,
        "CallSid": call_sid,
        "CallStatus": call_status,
        "From": from_number,
        "Caller": from_number,
        "SequenceNumber": str(sequence),
    }
    if call_status == "completed":
        params["CallDuration"] = "42"
    return sign(host, "/twilio/status", params, call_sid)


def voice_calls(host: str, callers: Sequence[str], count: int) -> list[Signed]:
    """``count`` signed voice webhooks, each a new CallSid, cycling through ``callers``."""
    return [
        voice(host, call_sid, callers[n % len(callers)])
        for n, call_sid in enumerate(call_sids(count))
    ]


def mixed_callers(known: Sequence[str], strangers: Sequence[str], known_share: float) -> list[str]:
    """Interleave known customers' numbers and strangers' so ``known_share`` of calls are known."""
    out: list[str] = []
    k = s = 0
    for n in range(len(known) + len(strangers)):
        if (k < len(known) and (n + 1) * known_share >= k + 1) or s >= len(strangers):
            if k >= len(known):
                break
            out.append(known[k])
            k += 1
        else:
            out.append(strangers[s])
            s += 1
    return out


def sign_url(url: str, params: dict[str, str], call_sid: str) -> Signed:
    """Sign ``params`` for ``url`` as Twilio would: a URL taken from our TwiML may end in a
    connection-override fragment (``#ct=...``), which Twilio reads, never sends, and does not
    sign, so it is stripped first."""
    parts = urlsplit(url.split("#", 1)[0])
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return sign(parts.netloc, path, params, call_sid)


def desk_leg(
    url: str, parent: str, desk_sid: str, from_number: str, call_status: str, sequence: int, at: str
) -> Signed:
    """A callback for the desk leg our ``<Dial><Number statusCallback>`` asked for: Twilio sends
    the child's CallSid and the inbound call as ParentCallSid."""
    params = {
        **STATUS,
        "CallSid": desk_sid,
        "ParentCallSid": parent,
        "CallStatus": call_status,
        "Direction": "outbound-dial",
        "From": from_number,
        "Caller": from_number,
        "To": DESK,
        "Called": DESK,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence),
        "Timestamp": at,
    }
    if call_status == "completed":
        params["CallDuration"] = "40"
        params["Duration"] = "1"
    return sign_url(url, params, parent)


def dial_action(url: str, call_sid: str, desk_sid: str, from_number: str) -> Signed:
    """The ``<Dial action>`` request: the desk answered and the conversation is over."""
    params = {
        **STATUS,
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "From": from_number,
        "Caller": from_number,
        "DialCallSid": desk_sid,
        "DialCallStatus": "completed",
        "DialCallDuration": "40",
        "DialBridged": "true",
    }
    del params["SequenceNumber"], params["Timestamp"]
    return sign_url(url, params, call_sid)


def call_completed(url: str, call_sid: str, from_number: str, sequence: int, at: str) -> Signed:
    """The inbound call's own ``completed`` callback (the number's status callback URL)."""
    params = {
        **STATUS,
        "CallSid": call_sid,
        "CallStatus": "completed",
        "From": from_number,
        "Caller": from_number,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence),
        "Timestamp": at,
        "CallDuration": "45",
        "Duration": "1",
    }
    return sign_url(url, params, call_sid)


def whole_calls(host: str, callers: Sequence[str], count: int, block: int = 64) -> list[Signed]:
    """``count`` whole calls as Twilio sends them, seven requests each: the voice webhook, the
    desk leg's initiated / ringing / in-progress / completed callbacks, the ``<Dial action>``
    and the call's own ``completed``. Every CallSid is new. A block's callbacks come after the
    next block's voice webhooks, so that (with fewer connections than a block) a call is
    recorded before its callbacks are sent, as the minutes of a real call ensure."""
    sids, desk_sids = call_sids(count), call_sids(count)
    url = f"http://{host}/twilio/status"
    at = format_datetime(datetime.now(UTC), usegmt=True)

    def voices(start: int) -> list[Signed]:
        return [
            voice(host, sids[i], callers[i % len(callers)])
            for i in range(start, min(count, start + block))
        ]

    def callbacks(start: int) -> list[Signed]:
        out = []
        for i in range(start, min(count, start + block)):
            caller = callers[i % len(callers)]
            for sequence, state in enumerate(("initiated", "ringing", "in-progress", "completed")):
                out.append(desk_leg(url, sids[i], desk_sids[i], caller, state, sequence, at))
            out.append(dial_action(url, sids[i], desk_sids[i], caller))
            out.append(call_completed(url, sids[i], caller, 4, at))
        return out

    requests = voices(0)
    for start in range(0, count, block):
        requests += voices(start + block) + callbacks(start)
    return requests
