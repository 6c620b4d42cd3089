"""GET /events over real gunicorn with two workers: who may listen, order, replay, heartbeat."""

from __future__ import annotations

import queue
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ..factories import add_user, call_sid, token_for
from ..twilio import sample
from .conftest import post_signed, server_env
from .server import Server
from .sse import Stream


@pytest.fixture(scope="module")
def server(module_server):
    """One server for the module: each test looks only at the calls it rings itself."""
    return module_server


@pytest.fixture(scope="module")
def token(module_database_url) -> str:
    engine = create_engine(module_database_url)
    with Session(engine) as session:
        value = token_for(session, add_user(session, "screen", "staff"))
    engine.dispose()
    return value


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ring(server, number: str = "+13125550187") -> str:
    sid = call_sid()
    response = post_signed(
        server.url, "/twilio/voice", sample("voice-inbound-us", CallSid=sid, From=number)
    )
    assert response.status_code == 200, server.log()[-2000:]
    return sid


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer cid_not-a-token"}])
def test_anonymous_or_bad_token_cannot_listen(server, headers):
    response = requests.get(server.url + "/events", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


def test_every_call_reaches_the_screen_once_and_in_order(server, token):
    stream = Stream(server.url + "/events", bearer(token))
    try:
        opened = stream.next()
        assert opened.event == "stream.open"
        sids = [ring(server) for _ in range(12)]
        events = stream.events(12)
    finally:
        stream.close()
    assert [e.data["call_sid"] for e in events] == sids
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 12
    assert {e.event for e in events} == {"call.ringing"}


def test_a_screen_that_reconnects_gets_what_it_missed_exactly_once(server, token):
    first = Stream(server.url + "/events", bearer(token))
    first.next()
    ring(server)
    seen = first.events(1)[0]
    first.close()
    missed = [ring(server) for _ in range(3)]
    again = Stream(server.url + "/events", {**bearer(token), "Last-Event-ID": str(seen.id)})
    try:
        replayed = again.events(3)
        live_sid = ring(server)
        live = again.events(1)[0]
        with pytest.raises(queue.Empty):
            again.events(1, timeout=1.5)
    finally:
        again.close()
    assert [e.data["call_sid"] for e in replayed] == missed
    assert live.data["call_sid"] == live_sid
    assert [e.id for e in replayed] == sorted(e.id for e in replayed)
    assert replayed[0].id > seen.id


def test_an_idle_stream_gets_heartbeats(server, token):
    stream = Stream(server.url + "/events", bearer(token))
    try:
        stream.next()
        comment = stream.next(timeout=6, events_only=False)
    finally:
        stream.close()
    assert comment.comment == "heartbeat"


def test_stream_headers_keep_proxies_from_buffering(server, token):
    response = requests.get(server.url + "/events", headers=bearer(token), stream=True, timeout=5)
    try:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Accel-Buffering"] == "no"
    finally:
        response.close()


@pytest.fixture
def slow_poll_server(module_database_url, tmp_path):
    """Two workers whose followers poll only every two minutes: a screen on one worker hears of a
    call the other worker answered only through the wake-up (NOTIFY, or the SQLite WAL watch)."""
    live = Server(
        server_env(module_database_url, tmp_path / "instance", CALLERID_EVENT_POLL="120"),
        workers=2,
    ).start()
    yield live
    live.stop()


def sids_within(stream: Stream, count: int, seconds: float) -> list[str]:
    """The CallSids of the next ``count`` call events, all of which must come within ``seconds``
    (heartbeats do not extend the wait)."""
    deadline = time.monotonic() + seconds
    sids: list[str] = []
    while len(sids) < count:
        message = stream.next(timeout=max(0.01, deadline - time.monotonic()))
        assert time.monotonic() < deadline, f"only {len(sids)} of {count} calls heard"
        if message.event.startswith("call."):
            sids.append(message.data["call_sid"])
    return sids


def test_screens_on_every_worker_hear_each_call_without_waiting_for_a_poll(slow_poll_server, token):
    # Six screens: gunicorn spreads them over both workers, and each call lands on one of them.
    streams = [Stream(slow_poll_server.url + "/events", bearer(token)) for _ in range(6)]
    try:
        for stream in streams:
            assert stream.next().event == "stream.open"
        sids = [ring(slow_poll_server) for _ in range(4)]
        heard = [sids_within(stream, 4, seconds=20) for stream in streams]
    finally:
        for stream in streams:
            stream.close()
    assert heard == [sids] * 6


def test_a_burst_of_screens_connecting_at_once_all_get_their_stream(server, token):
    """After a deploy every screen reconnects at the same moment: none may get a server error."""

    def connect(_n: int) -> tuple[int, str]:
        response = requests.get(
            server.url + "/events", headers=bearer(token), stream=True, timeout=(5, 30)
        )
        try:
            first = next(response.iter_lines(decode_unicode=True), "") if response.ok else ""
            return response.status_code, first
        finally:
            response.close()

    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(connect, range(60)))
    assert [status for status, _ in answers] == [200] * 60
    assert all(first == "retry: 2000" for _, first in answers)
