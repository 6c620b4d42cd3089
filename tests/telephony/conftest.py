"""Fixtures shared by the webhook tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from ..twilio import AUTH_TOKEN
from ..twilio_api import ACCOUNT_SID, TwilioApi, through


@pytest.fixture
def locked(app, database_url):
    """The database, write-locked by another connection (as a CLI import holds it) until the
    test releases it with ``rollback()``; each webhook's wait for it is kept short."""
    app.config["CALLERID_DB_TIMEOUT"] = 0.2
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    blocker.execute("BEGIN EXCLUSIVE")
    yield blocker
    blocker.close()


@pytest.fixture
def twilio(app) -> Iterator[TwilioApi]:
    """The stand-in for Twilio's REST API, with text-back on and its statuses sent back to
    ``app``; a request that breaks Twilio's description of it fails the test."""
    with TwilioApi(AUTH_TOKEN, deliver=through(app.test_client())) as api:
        app.config.update(
            CALLERID_TEXT_BACK=True,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            CALLERID_TWILIO_API_URL=api.url,
            CALLERID_PUBLIC_URL="http://localhost",
        )
        yield api
        for sid in list(api.played):  # no late status callback may reach the next test
            api.wait_until_played(sid)
    assert not api.breaches, api.breaches
