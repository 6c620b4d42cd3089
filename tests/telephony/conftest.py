"""Fixtures shared by the webhook tests."""

from __future__ import annotations

import sqlite3

import pytest


@pytest.fixture
def locked(app, database_url):
    """The database, write-locked by another connection (as a CLI import holds it) until the
    test releases it with ``rollback()``; each webhook's wait for it is kept short."""
    app.config["CALLERID_DB_TIMEOUT"] = 0.2
    blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    blocker.execute("BEGIN EXCLUSIVE")
    yield blocker
    blocker.close()
