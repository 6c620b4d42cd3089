"""Twilio's REST API, for the calls callerid places itself (a call-back), through the twilio
library, with a deadline and a base URL of our choosing.

The library has no timeout by default (``TwilioHttpClient(timeout=None)``): a Twilio that
accepts the connection and stays silent would hold the worker for ever. Its HTTP client is
pluggable, which is also how ``CALLERID_TWILIO_API_URL`` sends its requests to a proxy or to the
tests' stand-in for Twilio instead of api.twilio.com.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

TWILIO_API = "https://api.twilio.com"
TIMEOUT = 10.0  # seconds for one REST request, connection included

# Twilio's refusals, in words a person at the desk can act on (twilio.com/docs/api/errors/<code>).
REFUSALS = {
    20003: "Twilio refused our credentials: check TWILIO_ACCOUNT_SID and the auth token "
    "or API key.",
    21210: "Twilio refused the caller ID: the line is not a number of this Twilio account "
    "or a verified caller ID.",
    21211: "Twilio says the number to call is not a valid phone number.",
    21214: "Twilio cannot reach that number.",
    21215: "This Twilio account has no permission to call that country "
    "(Voice geographic permissions in the Twilio console).",
    21606: "That line cannot send texts to this number.",
    21610: "The customer has opted out of texts (they replied STOP).",
    30034: "Texts from this number are blocked: US texting needs a registered A2P 10DLC campaign.",
}


class NotConfigured(Exception):
    """Twilio's REST API cannot be used: a setting is missing (the message names it)."""


class _ApiClient(TwilioHttpClient):
    """The library's own HTTP client, with a timeout and another base URL for api.twilio.com."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=TIMEOUT)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API + "/"):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def client(settings: Mapping[str, Any]) -> Client:
    """A REST client for the account in ``settings``: an API key when one is set (Twilio's
    advice: it can be revoked alone), else the account's auth token."""
    account = settings.get("TWILIO_ACCOUNT_SID")
    if not account:
        raise NotConfigured("TWILIO_ACCOUNT_SID is not set: callerid cannot place calls.")
    http = _ApiClient(settings.get("CALLERID_TWILIO_API_URL") or TWILIO_API)
    key, secret = settings.get("TWILIO_API_KEY_SID"), settings.get("TWILIO_API_KEY_SECRET")
    if key and secret:
        return Client(key, secret, account, http_client=http)
    token = settings.get("TWILIO_AUTH_TOKEN")
    if not token:
        raise NotConfigured("Neither TWILIO_API_KEY_SID and _SECRET nor TWILIO_AUTH_TOKEN is set.")
    return Client(account, token, http_client=http)


def refusal(error: Exception) -> str:
    """What went wrong with a REST request, in words for the person who asked for it."""
    if isinstance(error, NotConfigured):
        return str(error)
    if isinstance(error, TwilioRestException):
        known = REFUSALS.get(error.code or 0)
        return known or f"Twilio refused the request ({error.code or error.status}): {error.msg}"
    return f"Twilio could not be reached ({type(error).__name__}); try again in a moment."
