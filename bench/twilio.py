"""Webhook requests signed exactly as Twilio signs them, built before any clock starts."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from .server import AUTH_TOKEN

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
