"""Requests signed exactly as Twilio signs them, from realistic parameter sets in samples/twilio."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

AUTH_TOKEN = "12345678901234567890123456789012"
SAMPLES = Path(__file__).parent / "samples" / "twilio"
BASE_URL = "http://localhost"


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def sample(name: str, **changes: str | None) -> dict[str, str]:
    """The parameters of sample ``name`` (e.g. "voice-inbound-us"); a change to None drops one."""
    params = dict(_load(name)["params"])
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


def status_sequence() -> list[dict[str, str]]:
    return [dict(callback) for callback in _load("status-sequence")["callbacks"]]


def signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(
    client: FlaskClient,
    path: str,
    params: dict[str, str],
    *,
    base_url: str = BASE_URL,
    token: str = AUTH_TOKEN,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    """POST ``params`` to ``path`` with the X-Twilio-Signature Twilio would send for that URL."""
    headers = {"X-Twilio-Signature": signature(base_url + path, params, token), **(headers or {})}
    return client.post(path, data=params, headers=headers, base_url=base_url)
