"""A stand-in for Twilio's REST API on a local port, for tests of what callerid asks of it.

Twilio cannot be reached from here, so ``CALLERID_TWILIO_API_URL`` points callerid's REST
client at this server. It stands in for Twilio's side only:

- every request is checked against Twilio's own OpenAPI description of the operation
  (samples/twilio/openapi/: path, method, credentials, required and allowed form parameters,
  types, patterns, enums and the one-of rules of ``x-twilio.conditional``); a request that breaks
  it is answered 400 and kept in ``breaches``, so a test can insist there were none;
- it answers Twilio's error JSON for the codes in ``ERRORS`` when told to (``refuse``), or
  answers late (``stall``);
- after a call is created it plays Twilio's part: status callbacks of the call, the TwiML of its
  ``Url`` requested, a ``<Dial>`` in it rung (status callbacks of that leg, its ``<Number url>``,
  its ``action``), each request signed with the auth token as Twilio signs; after a text, the
  message status callbacks.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import requests
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from callerid.cli.simulate.answers import read_dial
from callerid.cli.simulate.forms import durations, new_call_sid, progress

SPEC = Path(__file__).parent / "samples" / "twilio" / "openapi" / "twilio_api_v2010_subset.json"
# The account the samples in tests/samples/twilio/ belong to: one account for both sides.
ACCOUNT_SID = "AC" + "3f" * 16
API_VERSION = "2010-04-01"

# The errors a test can ask for: HTTP status and Twilio's message (twilio.com/docs/api/errors).
ERRORS = {
    20003: (401, "Authenticate"),
    21210: (400, "The source phone number provided is not yet verified for your account."),
    21211: (400, "Invalid 'To' Phone Number"),
    21214: (400, "'To' phone number cannot be reached"),
    21215: (400, "Account not authorized to call this number."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    30034: (400, "Message from an unregistered number"),
}
Deliver = Callable[[str, dict[str, str], dict[str, str]], tuple[int, bytes]]


class Breach(Exception):
    """A request that Twilio's description of the operation does not allow."""


@dataclass(frozen=True)
class Operation:
    """One operation of the description: where it lives, and the form it accepts."""

    id: str
    method: str
    pattern: re.Pattern[str]
    path_params: Mapping[str, Mapping[str, Any]]
    properties: Mapping[str, Mapping[str, Any]]
    required: frozenset[str]
    one_of: tuple[tuple[str, ...], ...]


@dataclass
class Callee:
    """How a number Twilio rings behaves: whether it picks up, and how long it talks."""

    answers: bool = True
    talk: int = 1
    ring: float = 0.0  # seconds it rings first (real time: keep it short)


@dataclass
class Played:
    """What the stand-in did for one created call or text, request by request."""

    sid: str
    params: dict[str, str]
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def load_operations(spec_path: Path = SPEC) -> list[Operation]:
    spec = json.loads(spec_path.read_text())
    schemas = spec["components"]["schemas"]
    operations = []
    for path, item in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
        for method in ("get", "post", "delete"):
            if method not in item:
                continue
            operation = item[method]
            form = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/x-www-form-urlencoded", {})
                .get("schema", {})
            )
            properties = {
                name: _resolve(schema, schemas)
                for name, schema in form.get("properties", {}).items()
            }
            operations.append(
                Operation(
                    id=operation["operationId"],
                    method=method.upper(),
                    pattern=pattern,
                    path_params={
                        p["name"]: p["schema"]
                        for p in operation.get("parameters", [])
                        if p["in"] == "path"
                    },
                    properties=properties,
                    required=frozenset(form.get("required", [])),
                    one_of=tuple(
                        tuple(_property_name(name, properties) for name in group)
                        for group in operation.get("x-twilio", {}).get("conditional", [])
                    ),
                )
            )
    return operations


def _resolve(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> Mapping[str, Any]:
    if "$ref" in schema:
        return schemas[schema["$ref"].split("/")[-1]]
    return schema


def _property_name(snake: str, properties: Mapping[str, Any]) -> str:
    # x-twilio.conditional names parameters in snake_case ("messaging_service_sid").
    wanted = snake.replace("_", "").lower()
    return next(name for name in properties if name.lower() == wanted)


def check_form(operation: Operation, form: MultiDict) -> None:
    """Raise ``Breach`` unless ``form`` is what ``operation`` accepts."""
    for name in form:
        if name not in operation.properties:
            raise Breach(f"{operation.id}: unknown parameter {name!r}")
        values = form.getlist(name)
        schema = operation.properties[name]
        if schema.get("type") != "array" and len(values) > 1:
            raise Breach(f"{operation.id}: {name} given {len(values)} times")
        for value in values:
            _check_value(operation.id, name, value, schema.get("items", schema))
    missing = sorted(name for name in operation.required if not form.get(name))
    if missing:
        raise Breach(f"{operation.id}: missing required {', '.join(missing)}")
    for group in operation.one_of:
        if not any(form.get(name) for name in group):
            raise Breach(f"{operation.id}: one of {', '.join(group)} is required")


def _check_value(operation: str, name: str, value: str, schema: Mapping[str, Any]) -> None:
    kind = schema.get("type", "string")
    where = f"{operation}: {name}={value!r}"
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        raise Breach(f"{where} is not an integer")
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        raise Breach(f"{where} is not a number")
    if kind == "boolean" and value not in ("true", "false"):
        raise Breach(f"{where} is not true or false")
    if "enum" in schema and value not in schema["enum"]:
        raise Breach(f"{where} is not one of {', '.join(schema['enum'])}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise Breach(f"{where} does not match {schema['pattern']}")
    ignore = schema.get("x-twilio", {}).get("ignoreFormat")
    if (
        schema.get("format") == "uri"
        and not ignore
        and not value.startswith(("http://", "https://"))
    ):
        raise Breach(f"{where} is not an absolute http(s) URL")


class TwilioApi:
    """Twilio's REST API for one account, on ``url``, until ``stop``."""

    def __init__(
        self,
        auth_token: str,
        *,
        account_sid: str = ACCOUNT_SID,
        api_key: tuple[str, str] | None = None,
        deliver: Deliver | None = None,
    ) -> None:
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.api_key = api_key
        self.deliver = deliver or _deliver_over_http
        self.operations = load_operations()
        self.callees: dict[str, Callee] = {}
        self.texts: dict[str, tuple[str, int | None]] = {}
        self.played: dict[str, Played] = {}
        self.breaches: list[str] = []
        # Seconds to wait before answering the next creates (a Twilio that stays silent), and
        # what to run as a create arrives, before it is answered (to look at our records then).
        self.stall = 0.0
        self.on_create: Callable[[dict[str, str]], None] | None = None
        self._refusals: list[tuple[int, str | None]] = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        # A short poll: stopping the server waits for it, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> TwilioApi:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def refuse(self, code: int, *, to: str | None = None) -> None:
        """Answer the next create (for ``to``, or any) with Twilio's error ``code``."""
        self._refusals.append((code, to))

    def wait_until_played(self, sid: str, seconds: float = 10) -> Played:
        deadline = time.monotonic() + seconds
        while sid not in self.played and time.monotonic() < deadline:
            time.sleep(0.01)
        played = self.played[sid]
        assert played.done.wait(max(0.0, deadline - time.monotonic())), f"{sid} still playing"
        return played

    # --- the HTTP side ---------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            status, body = self._answer(request)
        except Breach as breach:
            self.breaches.append(str(breach))
            status, body = 400, {"code": None, "message": str(breach), "status": 400}
        return Response(json.dumps(body), status, mimetype="application/json")(
            environ, start_response
        )

    def _answer(self, request: Request) -> tuple[int, dict[str, Any]]:
        operation, path = self._operation(request)
        if not self._authenticated(request, path.get("AccountSid", "")):
            return _error(20003)
        for name, schema in operation.path_params.items():
            _check_value(operation.id, name, path[name], schema)
        check_form(operation, request.form)
        form = {name: request.form.get(name, "") for name in request.form}
        events = request.form.getlist("StatusCallbackEvent")
        if operation.id == "CreateCall":
            return self._create("CA", form, lambda played: self._play_call(played, events))
        if operation.id == "CreateMessage":
            return self._create("SM", form, self._play_text)
        sid = path.get("Sid", "")
        if sid not in self.played:
            return 404, {"code": 20404, "message": "The requested resource was not found"}
        return 200, self._resource(sid, self.played[sid].params)

    def _operation(self, request: Request) -> tuple[Operation, dict[str, str]]:
        for operation in self.operations:
            match = operation.pattern.match(request.path)
            if match and operation.method == request.method:
                return operation, match.groupdict()
        raise Breach(f"{request.method} {request.path} is no operation Twilio describes")

    def _authenticated(self, request: Request, account: str) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic ") or account != self.account_sid:
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        if self.api_key and (user, password) == self.api_key:
            return True
        return (user, password) == (self.account_sid, self.auth_token)

    def _create(
        self, prefix: str, form: dict[str, str], play: Callable[[Played], None]
    ) -> tuple[int, dict[str, Any]]:
        if self.on_create is not None:
            self.on_create(form)
        if self.stall:
            time.sleep(self.stall)
        for refusal in list(self._refusals):
            code, to = refusal
            if to is None or to == form.get("To"):
                self._refusals.remove(refusal)
                return _error(code)
        sid = prefix + new_call_sid()[2:]
        played = self.played[sid] = Played(sid, form)
        threading.Thread(target=self._play, args=(play, played), daemon=True).start()
        return 201, self._resource(sid, form)

    def _resource(self, sid: str, form: Mapping[str, str]) -> dict[str, Any]:
        kind = "calls" if sid.startswith("CA") else "messages"
        schema = "api.v2010.account.call" if kind == "calls" else "api.v2010.account.message"
        spec = json.loads(SPEC.read_text())["components"]["schemas"][schema]
        resource: dict[str, Any] = dict.fromkeys(spec["properties"])
        now = format_datetime(datetime.now(UTC))
        resource.update(
            sid=sid,
            account_sid=self.account_sid,
            api_version=API_VERSION,
            to=form.get("To"),
            status="queued",
            direction="outbound-api",
            date_created=now,
            date_updated=now,
            uri=f"/{API_VERSION}/Accounts/{self.account_sid}/{kind.title()}/{sid}.json",
        )
        resource["from"] = form.get("From")
        if kind == "messages":
            resource.update(body=form.get("Body"), num_segments="1", num_media="0")
        return resource

    # --- Twilio's part after a create ------------------------------------------------------

    def _play(self, play: Callable[[Played], None], played: Played) -> None:
        try:
            play(played)
        finally:
            played.done.set()

    def _play_call(self, played: Played, events: list[str]) -> None:
        form = played.params
        leg = _leg(self.account_sid, played.sid, form["From"], form["To"], "outbound-api")
        report = self._reporter(played, form.get("StatusCallback"), set(events or ["completed"]))
        report(leg, "initiated", "initiated")
        report(leg, "ringing", "ringing")
        callee = self.callees.get(form["To"], Callee())
        time.sleep(callee.ring)
        if not callee.answers:
            report(leg, "no-answer", "completed", **durations(0))
            return
        twiml = self._twiml(played, form, leg)
        report(leg, "in-progress", "answered")
        if twiml is None:  # Twilio says "an application error has occurred" and hangs up
            report(leg, "completed", "completed", **durations(0))
            return
        talk = callee.talk
        for verb in twiml:
            if verb.tag == "Say":
                played.spoken.append((verb.text or "").strip())
            elif verb.tag == "Dial":
                talk = self._play_dial(played, leg, verb, form.get("Url", ""))
            elif verb.tag == "Hangup":
                break
        report(leg, "completed", "completed", **durations(talk))

    def _twiml(
        self, played: Played, form: Mapping[str, str], leg: dict[str, str]
    ) -> ET.Element | None:
        if form.get("Twiml"):
            return ET.fromstring(form["Twiml"])
        status, body = self._send(played, form["Url"], {**leg, "CallStatus": "in-progress"})
        try:
            return ET.fromstring(body) if status == 200 else None
        except ET.ParseError:
            return None

    def _play_dial(
        self, played: Played, parent: dict[str, str], verb: ET.Element, page: str
    ) -> int:
        """Ring what the ``<Dial>`` names; return how long the bridged call lasted."""
        dial = read_dial(verb, page)
        caller_id = dial.caller_id or parent["From"]
        child = {
            **_leg(self.account_sid, new_call_sid(), caller_id, dial.target, "outbound-dial"),
            "ParentCallSid": parent["CallSid"],
        }
        report = self._reporter(played, dial.status_callback, dial.events)
        report(child, "initiated", "initiated")
        report(child, "ringing", "ringing")
        callee = self.callees.get(dial.target, Callee())
        time.sleep(callee.ring)
        if callee.answers:
            report(child, "in-progress", "answered")
            if dial.whisper:
                self._send(played, dial.whisper, {**child, "CallStatus": "in-progress"})
            report(child, "completed", "completed", **durations(callee.talk))
        else:
            report(child, "no-answer", "completed", **durations(0))
        if dial.action:
            self._send(
                played,
                dial.action,
                {
                    **parent,
                    "CallStatus": "in-progress",
                    "DialCallSid": child["CallSid"],
                    "DialCallStatus": "completed" if callee.answers else "no-answer",
                    "DialCallDuration": str(callee.talk if callee.answers else 0),
                    "DialBridged": "true" if callee.answers else "false",
                },
            )
        return callee.talk if callee.answers else 0

    def _play_text(self, played: Played) -> None:
        form = played.params
        callback = form.get("StatusCallback")
        if not callback:
            return
        final, error = self.texts.get(form["To"], ("delivered", None))
        for status in ("sent", final):
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "MessageSid": played.sid,
                "SmsSid": played.sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "From": form.get("From", ""),
                "To": form["To"],
            }
            if error and status == final:
                params["ErrorCode"] = str(error)
            self._send(played, callback, params)

    def _reporter(
        self, played: Played, url: str | None, events: set[str] | frozenset[str]
    ) -> Callable[..., None]:
        numbers: Iterator[int] = itertools.count()

        def report(leg: dict[str, str], status: str, event: str, **extra: str) -> None:
            if url and event in events:
                self._send(played, url, {**leg, **progress(status, next(numbers)), **extra})

        return report

    def _send(self, played: Played, url: str, params: dict[str, str]) -> tuple[int, bytes]:
        """POST ``params`` to ``url`` as Twilio does: without the URL's fragment (connection
        overrides are Twilio's to read), signed with the auth token."""
        target = url.split("#", 1)[0]
        signature = RequestValidator(self.auth_token).compute_signature(target, params)
        status, body = self.deliver(target, params, {"X-Twilio-Signature": signature})
        played.requests.append((target, params, status))
        return status, body


def _leg(account: str, sid: str, from_: str, to: str, direction: str) -> dict[str, str]:
    return {
        "AccountSid": account,
        "ApiVersion": API_VERSION,
        "CallSid": sid,
        "From": from_,
        "To": to,
        "Caller": from_,
        "Called": to,
        "Direction": direction,
    }


def _error(code: int) -> tuple[int, dict[str, Any]]:
    status, message = ERRORS[code]
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return status, body


def _deliver_over_http(
    url: str, params: dict[str, str], headers: dict[str, str]
) -> tuple[int, bytes]:
    try:
        response = requests.post(url, data=params, headers=headers, timeout=10)
    except requests.RequestException:
        return 0, b""  # Twilio logs error 11200 and goes on
    return response.status_code, response.content


def through(client: Any) -> Deliver:
    """Deliver Twilio's requests to a Flask test client instead of over HTTP (in-process tests);
    the signed URL keeps the scheme and host Twilio was given."""

    def deliver(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
        scheme, rest = url.split("://", 1)
        host, _, path = rest.partition("/")
        response = client.post(
            "/" + path, data=params, headers=headers, base_url=f"{scheme}://{host}"
        )
        return response.status_code, response.data

    return deliver
