"""flask simulate call: play Twilio's part of a phone call against a running server, signed."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import click
import requests
from flask import current_app
from flask.cli import AppGroup
from twilio.request_validator import RequestValidator

from ... import numbers
from .answers import Dial, find_dial, say
from .forms import ACCOUNT_SID, API_VERSION, durations, new_call_sid, progress, voice_params

DEFAULT_URL = "http://127.0.0.1:8000"  # where `bash scripts/run` listens
DEMO_LINE = "+12025550143"
# scripts/run generates a development auth token once and keeps it here, beside the database.
DEV_TOKEN_FILE = "dev_twilio_token"
TIMEOUT = 10

simulate_group = AppGroup("simulate", help="Play Twilio's part against a running server.")


class ServerRefused(click.ClickException):
    """The server answered a simulated webhook with an error."""


@simulate_group.command("call")
@click.argument("raw_from", metavar="FROM")
@click.option("--to", "raw_to", default=DEMO_LINE, show_default=True, help="The line called.")
@click.option(
    "--url", help=f"The server's base URL  [default: CALLERID_PUBLIC_URL or {DEFAULT_URL}]"
)
@click.option("--answer/--no-answer", default=True, help="Whether the desk picks up.")
@click.option(
    "--ring",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Seconds of ringing.",
)
@click.option(
    "--duration", type=click.IntRange(min=0), default=5, show_default=True, help="Seconds of talk."
)
@click.option("--fast", is_flag=True, help="No pauses between the steps (for scripts and tests).")
@click.option("--token", help="Twilio auth token to sign with  [default: the app's]")
@click.option("--call-sid", "--sid", "call_sid", help="CallSid to use  [default: a new one]")
def call_command(
    raw_from: str,
    raw_to: str,
    url: str | None,
    answer: bool,
    ring: float,
    duration: int,
    fast: bool,
    token: str | None,
    call_sid: str | None,
) -> None:
    """Ring the server from FROM (any number format, or "anonymous"), as Twilio would.

    Posts the signed voice webhook, then the desk leg's status callbacks and the <Dial action>
    request that the answered TwiML asks for, pausing so the board shows ringing, answered, ended.
    """
    settings = current_app.config
    region = settings["CALLERID_DEFAULT_REGION"]
    base = (url or settings["CALLERID_PUBLIC_URL"] or DEFAULT_URL).rstrip("/")
    twilio = Twilio(
        base_url=base,
        # The server checks the signature against CALLERID_PUBLIC_URL when it has one.
        signed_base=(settings["CALLERID_PUBLIC_URL"] or base).rstrip("/"),
        token=token or _auth_token(),
        pause=(lambda seconds: None) if fast else time.sleep,
    )
    params = voice_params(
        call_sid or new_call_sid(), _caller_id(raw_from, region), _line(raw_to, region)
    )
    click.echo(
        f"Calling {params['To']} from {params['From']} at {base}, CallSid {params['CallSid']}"
    )
    answered = twilio.call(params, region, answer=answer, ring=ring, talk=duration)
    if answered:
        click.echo(f"Done: the desk answered and talked for {duration} s.")
    else:
        click.echo("Done: nobody answered; the call is a missed call to return.")


@dataclass
class Twilio:
    """Twilio's side of one call: signs each request over the URL Twilio would call and delivers
    it to ``base_url`` (the same server, reached directly)."""

    base_url: str
    signed_base: str
    token: str
    pause: Callable[[float], None]
    http: requests.Session = field(default_factory=requests.Session)

    def call(
        self, params: dict[str, str], region: str, *, answer: bool, ring: float, talk: int
    ) -> bool:
        """Play the whole call; return True when the desk answered it."""
        voice_url = self.signed_base + "/twilio/voice"
        twiml = self.post(voice_url, params, "voice webhook")
        if twiml is None:
            raise ServerRefused(
                "the voice webhook answered without TwiML; is that a callerid server?"
            )
        click.echo(f"  {say(twiml, region)}")
        dial = find_dial(twiml, voice_url)
        answered = dial is not None and answer
        if dial is not None:
            desk = DeskLeg(self, dial, params, new_call_sid())
            desk.ring(ring)
            if answered:
                desk.answer(talk)
            else:
                desk.give_up()
            desk.finish(region, answered, talk)
        self.hang_up(params, talk if answered else 0)
        return answered

    def hang_up(self, params: dict[str, str], seconds: int) -> None:
        """The call is over: the number's "call status changes" callback reports it."""
        ended = {**params, **progress("completed", 0), **durations(seconds)}
        self.post(self.signed_base + "/twilio/status", ended, "call completed")

    def post(self, twilio_url: str, params: Mapping[str, str], what: str) -> ET.Element | None:
        """POST ``params`` signed for ``twilio_url``; return the TwiML answer, if any. Raises
        ``ServerRefused`` for an error answer or an unreachable server."""
        parts = urlsplit(twilio_url)
        target = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        signature = RequestValidator(self.token).compute_signature(twilio_url, dict(params))
        click.echo(f"→ POST {parts.path}  {what}")
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        try:
            response = self.http.post(target, data=dict(params), headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ServerRefused(
                f"cannot reach {self.base_url} ({type(exc).__name__}): is the server running? "
                "Start it with 'bash scripts/run', or pass --url."
            ) from exc
        if response.status_code == 403:
            raise ServerRefused(
                "signature refused: does TWILIO_AUTH_TOKEN match the server's? "
                f"(signed for {twilio_url})"
            )
        if response.status_code >= 400:
            raise ServerRefused(f"{target} answered {response.status_code}: {response.text[:300]}")
        return _twiml(response)


@dataclass
class DeskLeg:
    """The dialled front-desk leg: reports its progress to the status callback the <Dial> names."""

    twilio: Twilio
    dial: Dial
    parent: dict[str, str]
    call_sid: str
    sent: int = 0

    def ring(self, seconds: float) -> None:
        self.report("initiated")
        self.report("ringing")
        click.echo(f"  … the desk phone rings for {seconds:g} s")
        self.twilio.pause(seconds)

    def answer(self, talk: int) -> None:
        self.report("in-progress", event="answered", label="in-progress (answered)")
        self.whisper()
        click.echo(f"  … talking for {talk} s")
        self.twilio.pause(talk)
        self.report("completed", label=f"completed after {talk} s", **durations(talk))

    def whisper(self) -> None:
        """Before the bridge, Twilio fetches the <Number url> and plays it to the desk alone."""
        if not self.dial.whisper:
            return
        twiml = self.twilio.post(self.dial.whisper, self.leg("in-progress"), "whisper to the desk")
        words = (
            " ".join((say.text or "").strip() for say in twiml.iter("Say"))
            if twiml is not None
            else ""
        )
        if words:
            click.echo(f'  the desk hears, before the caller is put through: "{words}"')
        else:
            click.echo("  the desk hears nothing before the caller is put through")

    def give_up(self) -> None:
        self.report("no-answer", event="completed", **durations(0))

    def finish(self, region: str, answered: bool, talk: int) -> None:
        """The <Dial action> request: Twilio asks what to do now that the dial is over."""
        if not self.dial.action:
            return
        outcome = {
            **self.parent,
            "CallStatus": "in-progress",
            "DialCallSid": self.call_sid,
            "DialCallStatus": "completed" if answered else "no-answer",
            "DialCallDuration": str(talk if answered else 0),
            "DialBridged": "true" if answered else "false",
        }
        what = f"<Dial action>, DialCallStatus={outcome['DialCallStatus']}"
        twiml = self.twilio.post(self.dial.action, outcome, what)
        click.echo(f"  {say(twiml, region)}")

    def report(
        self, status: str, *, event: str | None = None, label: str = "", **extra: str
    ) -> None:
        """Send one status callback, if the <Dial> subscribed to its event."""
        if not self.dial.status_callback or (event or status) not in self.dial.events:
            return
        params = {**self.leg(status), **progress(status, self.sent), **extra}
        self.sent += 1
        what = f"desk leg {self.call_sid} {label or status}"
        self.twilio.post(self.dial.status_callback, params, what)

    def leg(self, status: str) -> dict[str, str]:
        """What every request about the desk leg carries."""
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": API_VERSION,
            "CallSid": self.call_sid,
            "ParentCallSid": self.parent["CallSid"],
            "CallStatus": status,
            "Direction": "outbound-dial",
            "From": self.dial.caller_id or self.parent["From"],
            "To": self.dial.target,
            "Caller": self.dial.caller_id or self.parent["From"],
            "Called": self.dial.target,
        }


def _caller_id(raw_from: str, region: str) -> str:
    """What Twilio puts in ``From`` for this caller: E.164, a withheld marker, or an address."""
    caller = numbers.normalise(raw_from, region)
    if caller.is_number and caller.number:
        return caller.number
    text = raw_from.strip()
    if caller.kind == numbers.WITHHELD:
        return text.capitalize() if text.isalpha() else (text or "Anonymous")
    if caller.kind == numbers.ADDRESS:
        return text
    raise click.BadParameter(
        f"{raw_from!r} is not a valid phone number; try '+1 415 555 0134' or 'anonymous'.",
        param_hint="FROM",
    )


def _line(raw_to: str, region: str) -> str:
    try:
        return numbers.parse(raw_to, region)
    except numbers.InvalidNumber as exc:
        raise click.BadParameter(f"{raw_to!r} is {exc.reason}.", param_hint="--to") from exc


def _auth_token() -> str:
    configured = current_app.config.get("TWILIO_AUTH_TOKEN")
    if configured:
        return configured
    kept = Path(current_app.instance_path) / DEV_TOKEN_FILE
    if kept.is_file():
        return kept.read_text().strip()
    raise click.ClickException(
        "no Twilio auth token to sign with: set TWILIO_AUTH_TOKEN to the server's, pass --token, "
        f"or start the server with 'bash scripts/run' (it keeps one in {kept})."
    )


def _twiml(response: requests.Response) -> ET.Element | None:
    if "xml" not in response.headers.get("Content-Type", "") or not response.content:
        return None
    try:
        return ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise ServerRefused(f"the server's answer is not TwiML: {response.text[:300]}") from exc
