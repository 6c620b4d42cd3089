"""The TwiML a server answers, read as Twilio would: whom a <Dial> rings and where it
reports, and what each verb would do, in plain words."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

import phonenumbers

from ... import numbers


@dataclass(frozen=True)
class Dial:
    """What a <Dial> asks of Twilio: whom to ring and where to report."""

    target: str
    caller_id: str | None
    timeout: str
    action: str | None
    status_callback: str | None
    events: frozenset[str]
    whisper: str | None = None  # the <Number url> played to whoever answers


def find_dial(twiml: ET.Element | None, page_url: str) -> Dial | None:
    """The first <Dial> in ``twiml``, its URLs made absolute against ``page_url``; None if none."""
    dial = twiml.find("Dial") if twiml is not None else None
    return read_dial(dial, page_url) if dial is not None else None


def read_dial(dial: ET.Element, page_url: str) -> Dial:
    noun = next((child for child in dial if child.tag in {"Number", "Client", "Sip"}), None)
    source = noun if noun is not None else dial
    target = (source.text or "").strip()
    if noun is not None and noun.tag == "Client":
        target = f"client:{target}"
    callback = source.get("statusCallback")
    whisper = source.get("url") if noun is not None else None
    return Dial(
        target=target,
        caller_id=dial.get("callerId"),
        timeout=dial.get("timeout", "30"),
        action=urljoin(page_url, dial.get("action")) if dial.get("action") else None,
        status_callback=urljoin(page_url, callback) if callback else None,
        # Without statusCallbackEvent, Twilio reports only the end of the leg.
        events=frozenset((source.get("statusCallbackEvent") or "completed").split()),
        whisper=urljoin(page_url, whisper) if whisper else None,
    )


def say(twiml: ET.Element | None, region: str) -> str:
    """What Twilio would do with this TwiML, in plain words."""
    if twiml is None:
        return "(no TwiML: Twilio only needs a 2xx here)"
    steps = [_step(verb, region) for verb in twiml]
    return "Twilio would " + (", then ".join(steps) if steps else "hang up (empty response)")


def _step(verb: ET.Element, region: str) -> str:
    if verb.tag == "Dial":
        dial = read_dial(verb, "")
        shown = _shown(dial.caller_id, region)
        return f"dial {dial.target} (ringing up to {dial.timeout} s); caller shown as {shown}"
    if verb.tag == "Say":
        return f'say "{(verb.text or "").strip()}"'
    if verb.tag == "Record":
        return "record a voicemail"
    if verb.tag == "Hangup":
        return "hang up"
    return f"<{verb.tag}>"


def _shown(caller_id: str | None, region: str) -> str:
    if not caller_id:
        return "the caller sent it (no callerId)"
    try:
        return numbers.display(caller_id, region)
    except phonenumbers.NumberParseException:
        return caller_id
