"""SQLite's wake-up under gevent: the WAL watch waits as one idle greenlet, so the worker it
lives in goes on answering Twilio, and it hears that worker's own commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import gevent
import pytest
from sqlalchemy.engine import make_url

from callerid.events.walwatch import WalWatcher

from ..twilio import post_signed, sample

SAFETY = 10.0  # seconds: a watch that blocked the worker is stopped then, and the test fails


def wait_cooperatively(condition: Callable[[], bool], seconds: float = SAFETY) -> bool:
    """Yield to other greenlets until ``condition`` holds; whether it did in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.01)
    return True


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_webhook_is_answered_while_the_wal_watch_waits(app, client, database_url):
    news: list[int] = []
    watcher = WalWatcher(Path(make_url(database_url).database or ""), lambda: news.append(1))
    # The watch runs as a greenlet beside this test's, as in a gevent worker. Were its wait a
    # blocking one, this greenlet would get the hub back only once a real thread stopped it.
    safety = threading.Timer(SAFETY, watcher._stopped.set)
    safety.start()
    watching = gevent.spawn(watcher._run)
    try:
        assert wait_cooperatively(lambda: watcher.listening), "the watch never started"
        heard = len(news)

        response = post_signed(client, "/twilio/voice", sample("voice-inbound-us"))

        assert response.status_code == 200
        assert "<Dial" in response.get_data(as_text=True)
        assert watcher.listening, "the webhook waited for the watch to end"
        assert wait_cooperatively(lambda: len(news) > heard), "the webhook's commit went unheard"
    finally:
        watcher._stopped.set()
        watching.join(timeout=5)
        safety.cancel()
