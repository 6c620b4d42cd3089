"""The TwiML we answer with, built from settings alone so it can always be returned."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

from ..numbers import Caller

DESK_EVENTS = "initiated ringing answered completed"


# Stands in for the caller's number in a cached document; E.164 needs no XML escaping.
_CALLER = "+00000000000000"


def dial(
    settings: Mapping[str, Any],
    caller: Caller,
    status_url: str,
    action_url: str,
    voicemail_url: str | None = None,
    whisper_url: str | None = None,
) -> str:
    """Connect the caller to the front desk (``CALLERID_FORWARD_TO``).

    The caller hears ringing until someone answers (answerOnBridge), their number is shown to the
    desk, every step of the desk leg is reported to ``status_url`` and its end to ``action_url``
    (the ``<Dial action>``). With no desk configured the caller hears the no-answer message
    instead of an error, and a voicemail goes to ``voicemail_url``. With ``whisper_url``, the
    person who answers hears what that URL answers before the caller is put through.
    """
    target = settings.get("CALLERID_FORWARD_TO")
    if not target:
        return no_answer(settings, voicemail_url)
    timeout = settings.get("CALLERID_DIAL_TIMEOUT", 20)
    # A withheld or invalid caller ID passed on can get the desk leg rejected (Twilio error 13214).
    if not caller.is_number or not caller.number:
        return _dial(target, timeout, status_url, action_url, whisper_url, with_caller_id=False)
    document = _dial(target, timeout, status_url, action_url, whisper_url, with_caller_id=True)
    return document.replace(_CALLER, caller.number)


@lru_cache(maxsize=64)
def _dial(
    target: str,
    timeout: int,
    status_url: str,
    action_url: str,
    whisper_url: str | None,
    *,
    with_caller_id: bool,
) -> str:
    # Built once per desk and URL: the document differs between calls only by the caller's number.
    response = VoiceResponse()
    options: dict[str, Any] = {
        "action": action_url,
        "method": "POST",
        "answer_on_bridge": True,
        "timeout": timeout,
    }
    if with_caller_id:
        options["caller_id"] = _CALLER
    desk = Dial(**options)
    leg = {
        "status_callback": status_url,
        "status_callback_event": DESK_EVENTS,
        "status_callback_method": "POST",
    }
    if whisper_url:
        # Twilio runs this URL's TwiML on the answering leg alone, before the bridge.
        leg.update(url=whisper_url, method="POST")
    lowered = target.lower()
    if lowered.startswith("client:"):
        desk.client(target[len("client:") :], **leg)
    elif lowered.startswith("sip:"):
        desk.sip(target, **leg)
    else:
        desk.number(target, **leg)
    response.append(desk)
    return str(response)


def no_answer(settings: Mapping[str, Any], voicemail_url: str | None = None) -> str:
    """What the caller hears when nobody at the desk picked up: a message, then voicemail or
    goodbye. The recording is reported to ``voicemail_url``."""
    response = VoiceResponse()
    message = settings.get("CALLERID_NO_ANSWER_MESSAGE")
    if message:
        response.say(message)
    if settings.get("CALLERID_VOICEMAIL"):
        response.record(action=voicemail_url, max_length=120, play_beep=True)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def whisper(settings: Mapping[str, Any], words: str) -> str:
    """The document played to the person who answers: ``words`` spoken in the configured voice
    and language."""
    response = VoiceResponse()
    options = {"language": settings.get("CALLERID_WHISPER_LANGUAGE") or None}
    voice = settings.get("CALLERID_WHISPER_VOICE")
    if voice:
        options["voice"] = voice
    response.say(words, **options)
    return str(response)


def empty() -> str:
    """A valid document that does nothing: what a whisper answers when it cannot be worked out."""
    return str(VoiceResponse())


def call_back(
    settings: Mapping[str, Any], words: str, number: str, line: str, status_url: str
) -> str:
    """The staff member's leg of a call-back, once they answer: they hear ``words`` ("Calling
    back Anna Moors"), then the customer's ``number`` is rung showing our ``line``; each step
    of the customer's leg is reported to ``status_url``. The call ends when either hangs up."""
    response = VoiceResponse()
    response.say(words, language=settings.get("CALLERID_WHISPER_LANGUAGE") or None)
    customer = Dial(caller_id=line, timeout=settings.get("CALLERID_DIAL_TIMEOUT", 20))
    customer.number(
        number,
        status_callback=status_url,
        status_callback_event=DESK_EVENTS,
        status_callback_method="POST",
    )
    response.append(customer)
    return str(response)


def say_and_hang_up(words: str) -> str:
    response = VoiceResponse()
    response.say(words)
    response.hangup()
    return str(response)


def no_reply() -> str:
    """The answer to a text: an empty messaging document, so nothing is sent back."""
    return str(MessagingResponse())


def refusal(reason: str) -> str:
    """A TwiML document for a refused request: Twilio reads the status (4xx, so its debugger
    logs the request), and a person reading the body sees why, in a comment."""
    comment = re.sub(r"-{2,}", "-", " ".join(reason.split())).rstrip("-")  # no "--" in comments
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><!-- {comment} --><Response><Hangup /></Response>'
    )
