"""X-Twilio-Signature: is this request really from Twilio, for the URL it says it called?"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from .. import metrics

log = logging.getLogger(__name__)
# Twilio's connection overrides, as a URL fragment on every callback URL our TwiML gives: connect
# within 1 s, and try twice more when the connection fails (an instance down behind the
# balancer). Twilio reads the fragment and never sends it; whether it signs it is not
# documented, so a signature over the URL with it is accepted too.
RETRY_FRAGMENT = "ct=1000&rc=2&rp=ct"
# The whisper's URL: the caller waits while it is fetched, and Twilio does not document what a
# failed whisper does to the call, so it gets short limits (connect 1 s, read 1.5 s, 2.5 s in
# all, one retry of a failed connection) and we answer within 1 s.
WHISPER_FRAGMENT = "ct=1000&rt=1500&tt=2500&rc=1&rp=ct"
_FRAGMENTS = (RETRY_FRAGMENT, WHISPER_FRAGMENT)


class _SignedParams(MultiDict):
    # The validator asks for .getall() first and falls back via a raised AttributeError per
    # parameter; answering it directly halves its cost on the webhook path.
    getall = MultiDict.getlist


def signed_url(req: Request, public_url: str | None) -> str:
    """The URL Twilio requested and signed: scheme, host, raw path and raw query string.

    Twilio signs the URL it called; behind a proxy, that is ``CALLERID_PUBLIC_URL`` plus our path.
    The raw query is kept as sent, since Werkzeug's decoded ``request.url`` breaks signatures.
    """
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI")
    if raw and not raw.startswith("/"):
        # An absolute-form request line ("POST http://host/twilio/voice HTTP/1.1"), which HTTP
        # lets any client send: its path and query are what was signed, never its host.
        raw = _path_and_query(raw)
    if not raw:
        query = req.query_string.decode("latin-1")
        raw = quote(req.script_root + req.path) + (f"?{query}" if query else "")
    base = public_url or f"{req.scheme}://{req.host}"
    return base + raw


def _path_and_query(absolute: str) -> str:
    parts = urlsplit(absolute)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def is_valid(req: Request, auth_token: str | None, public_url: str | None) -> bool:
    """True when ``req`` carries a valid signature for our auth token. A missing token, header or
    a signature over other parameters or another URL is invalid."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not auth_token or not signature:
        return False
    validator = RequestValidator(auth_token)
    url, params = signed_url(req, public_url), _SignedParams(req.form)
    # validate() signs twice (the URL with and without its default port). The URL as we rebuilt
    # it is always one of the two, so a match on it alone is the same verdict at half the cost.
    given = signature.encode("utf-8", "replace")
    for candidate in (url, *(f"{url}#{fragment}" for fragment in _FRAGMENTS)):
        expected = validator.compute_signature(candidate, params)
        if hmac.compare_digest(expected.encode(), given):
            return True
    try:
        return validator.validate(url, params, signature)
    except ValueError:
        # The validator reads the URL's port; a Host header such as "host:x" has none it can read.
        return False


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request to ``view`` that Twilio did not sign, before anything is read."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        token = current_app.config["TWILIO_AUTH_TOKEN"]
        if not is_valid(request, token, current_app.config["CALLERID_PUBLIC_URL"]):
            if not token:
                log.error("TWILIO_AUTH_TOKEN is not set: refusing every Twilio webhook")
            else:
                log.warning("refused %s: missing or invalid X-Twilio-Signature", request.path)
            metrics.webhook_outcome(_route(), "forbidden")
            abort(403, description="Missing or invalid X-Twilio-Signature.")
        return view(*args, **kwargs)

    return checked


def _route() -> str:
    # The URL rule, not the path: one series per route, whatever a stranger appends to it.
    rule = request.url_rule
    return rule.rule if rule is not None else request.path
