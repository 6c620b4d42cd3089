"""One inbound call as Twilio sends it, from an asyncio loop.

The voice webhook (sometimes retried on another instance, as a Twilio retry through the balancer
lands), then, from the TwiML it answered, the desk leg's initiated / ringing / in-progress /
completed callbacks (with ParentCallSid), the ``<Dial action>`` and the call's own ``completed``
callback: shuffled, some sent twice, and each re-sent while it is not acknowledged (a non-2xx
answer, or none) for at most 15 s, as Twilio's connection overrides allow.
"""

from __future__ import annotations

import asyncio
import random
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from . import client, twilio

# Twilio waits 15 s for an answer, and its retries of a request end within 15 s of the first try.
TWILIO_TIMEOUT = 15.0
# Pauses before each re-send of an unacknowledged callback (Twilio's exact schedule is not
# documented; its overrides allow up to 5 retries within the 15 s).
RESEND_AFTER = (1.0, 2.0, 4.0, 6.0)
# A call's callbacks, in the order Twilio sends them (Plan.order indexes this).
CALLBACKS = (
    "desk initiated",
    "desk ringing",
    "desk in-progress",
    "desk completed",
    "dial action",
    "call completed",
)


@dataclass(frozen=True, slots=True)
class Plan:
    """What one call will do: who calls, which instance takes its webhook, whether the webhook
    is retried (on which instance, how soon), and its callbacks' order and repeats."""

    call_sid: str
    desk_sid: str
    caller: str
    first: int
    retry_on: int | None
    retry_after: float
    order: tuple[int, ...]  # indexes into the call's 6 callbacks, shuffled, some repeated
    pace: float  # seconds between this call's callbacks
    start: float  # seconds after the burst begins


@dataclass
class Tally:
    """What the load generator saw, over all calls."""

    sent: dict[str, float] = field(default_factory=dict)  # CallSid -> first voice webhook sent
    voice_ms: list[float] = field(default_factory=list)
    callback_ms: list[float] = field(default_factory=list)
    voice_statuses: Counter[int] = field(default_factory=Counter)
    callback_statuses: Counter[int] = field(default_factory=Counter)  # every try's answer
    callbacks: int = 0  # distinct callback requests (a repeat counts as one more)
    resent: int = 0  # tries after a first that was not acknowledged
    given_up: Counter[str] = field(default_factory=Counter)  # CallSid -> never acknowledged
    no_twiml: int = 0  # voice webhooks whose answer held no <Dial> to follow
    # CallSid -> (callback, answer status) of every try, in the order sent: for a diagnosis.
    answers: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def plans(
    callers: list[str],
    count: int,
    instances: int,
    rng: random.Random,
    *,
    retry_share: float,
    repeat_share: float,
    pace: float,
    spread: float = 0.0,
) -> list[Plan]:
    """``count`` calls starting within ``spread`` seconds (0: all at once): ``retry_share`` of
    them with a retried voice webhook, each callback sent a second time with probability
    ``repeat_share``, about ``pace`` seconds apart."""
    found = []
    sids = twilio.call_sids(count)
    desk_sids = twilio.call_sids(count)  # a prefix of their own: never one of ``sids``
    for index, (sid, desk_sid) in enumerate(zip(sids, desk_sids, strict=True)):
        first = index % instances
        retried = rng.random() < retry_share
        # On one instance the retry comes back to it; on two it lands on the other.
        retry_on = ((first + 1) % instances) if retried else None
        order = list(range(6))
        order += [n for n in range(6) if rng.random() < repeat_share]
        rng.shuffle(order)
        found.append(
            Plan(
                call_sid=sid,
                desk_sid=desk_sid,
                caller=callers[index % len(callers)],
                first=first,
                retry_on=retry_on,
                retry_after=rng.uniform(0.0, 0.1),
                order=tuple(order),
                pace=pace * rng.uniform(0.5, 1.5),
                start=rng.uniform(0.0, spread),
            )
        )
    return found


def _callbacks(
    plan: Plan, status_url: str, action_url: str, started: datetime
) -> list[twilio.Signed]:
    """The call's six callbacks, in Twilio's order, with Twilio's timestamps."""

    def at(seconds: float) -> str:
        return format_datetime(started + timedelta(seconds=seconds))

    desk = [
        twilio.desk_leg(status_url, plan.call_sid, plan.desk_sid, plan.caller, status, n, at(t))
        for n, (status, t) in enumerate(
            (("initiated", 0.0), ("ringing", 0.1), ("in-progress", 2.0), ("completed", 42.0))
        )
    ]
    action = twilio.dial_action(action_url, plan.call_sid, plan.desk_sid, plan.caller)
    # The number's own status callback subscribes to "completed" alone: its sequence starts at 0.
    own = twilio.call_completed(status_url, plan.call_sid, plan.caller, 0, at(42.5))
    return [*desk, action, own]


def twiml_urls(body: bytes) -> tuple[str, str] | None:
    """The desk leg's statusCallback and the ``<Dial action>`` URLs of our TwiML, as written
    (fragment included)."""
    try:
        dial = ElementTree.fromstring(body).find("Dial")
    except ElementTree.ParseError:
        return None
    if dial is None or dial.get("action") is None:
        return None
    for noun in dial:
        if noun.get("statusCallback"):
            return noun.attrib["statusCallback"], dial.attrib["action"]
    return None


class Caller:
    """Sends calls to ``targets`` (one per instance) and keeps the ``tally``."""

    def __init__(
        self, targets: list[tuple[str, int]], rng: random.Random, *, overlap: bool = False
    ) -> None:
        self.targets = targets
        self.rng = rng
        # Twilio sends each callback when its event happens, whether or not we have answered
        # the one before: with ``overlap`` a call's callbacks leave ``pace`` apart on schedule
        # (and may be in flight together); without it each waits for the previous answer.
        self.overlap = overlap
        self.tally = Tally()

    async def call(self, plan: Plan) -> None:
        await asyncio.sleep(plan.start)
        voice = twilio.voice(twilio.PUBLIC_HOST, plan.call_sid, plan.caller)
        retry = None
        if plan.retry_on is not None:
            retry = asyncio.create_task(self._retried_voice(plan, voice))
        self.tally.sent[plan.call_sid] = time.perf_counter()
        answer = await self._voice(plan.first, voice)
        if retry is not None:
            await retry
        urls = twiml_urls(answer.body) if answer.status == 200 else None
        if urls is None:
            self.tally.no_twiml += 1
            return
        callbacks = _callbacks(plan, *urls, datetime.now(UTC))
        if self.overlap:
            await asyncio.gather(
                *(
                    self._deliver_at(plan, (n + 1) * plan.pace, index, callbacks[index])
                    for n, index in enumerate(plan.order)
                )
            )
            return
        for index in plan.order:
            await asyncio.sleep(plan.pace)
            await self._deliver(plan.call_sid, CALLBACKS[index], callbacks[index])

    async def _deliver_at(
        self, plan: Plan, delay: float, index: int, signed: twilio.Signed
    ) -> None:
        await asyncio.sleep(delay)
        await self._deliver(plan.call_sid, CALLBACKS[index], signed)

    async def _retried_voice(self, plan: Plan, voice: twilio.Signed) -> None:
        await asyncio.sleep(plan.retry_after)
        assert plan.retry_on is not None
        await self._voice(plan.retry_on, voice)

    async def _voice(self, target: int, voice: twilio.Signed) -> client.Answer:
        started = time.perf_counter()
        answer = await client.post(self.targets[target], voice, TWILIO_TIMEOUT)
        self.tally.voice_ms.append((time.perf_counter() - started) * 1000)
        self.tally.voice_statuses[answer.status] += 1
        return answer

    async def _deliver(self, call_sid: str, name: str, signed: twilio.Signed) -> None:
        """Send until acknowledged (2xx) or Twilio's 15 s are over; each try goes wherever the
        balancer sends it."""
        self.tally.callbacks += 1
        deadline = time.perf_counter() + TWILIO_TIMEOUT
        for attempt in range(len(RESEND_AFTER) + 1):
            if attempt:
                self.tally.resent += 1
            target = self.targets[self.rng.randrange(len(self.targets))]
            started = time.perf_counter()
            answer = await client.post(target, signed, max(0.1, deadline - started))
            self.tally.callback_ms.append((time.perf_counter() - started) * 1000)
            self.tally.callback_statuses[answer.status] += 1
            self.tally.answers.setdefault(call_sid, []).append((name, answer.status))
            if 200 <= answer.status < 300:
                return
            if (
                attempt == len(RESEND_AFTER)
                or time.perf_counter() + RESEND_AFTER[attempt] > deadline
            ):
                break
            await asyncio.sleep(RESEND_AFTER[attempt])
        self.tally.given_up[call_sid] += 1
