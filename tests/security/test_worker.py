"""The worker's bounds, piece by piece, in process (tests/e2e/test_slow_clients.py runs them
in gunicorn): a body read that stops at its deadline, the close after a refusal, the cap."""

from __future__ import annotations

import time
from types import SimpleNamespace

import gevent
import pytest
from gevent import socket as gsocket
from gunicorn.workers.ggevent import GeventWorker
from werkzeug.exceptions import RequestTimeout

from callerid import worker


@pytest.fixture
def pipe():
    ours, theirs = gsocket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_a_body_that_stops_coming_is_given_up_at_the_deadline(pipe):
    ours, theirs = pipe
    theirs.sendall(b"CallSid=CA")
    body = worker.DeadlineInput(ours.makefile("rb"), time.monotonic() + 0.3)
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        body.read(100)  # ten bytes came, ninety never will
    assert time.monotonic() - started < 2


def test_a_body_that_comes_in_time_is_read_whole(pipe):
    ours, theirs = pipe
    theirs.sendall(b"CallSid=CA1\nFrom=+1\n")
    body = worker.DeadlineInput(ours.makefile("rb"), time.monotonic() + 5)
    assert body.readline() == b"CallSid=CA1\n"
    assert body.read(8) == b"From=+1\n"
    theirs.close()
    assert list(body) == [] and body.readlines() == []


def test_a_read_after_the_deadline_is_refused_at_once(pipe):
    ours, _ = pipe
    body = worker.DeadlineInput(ours.makefile("rb"), time.monotonic() - 1)
    with pytest.raises(RequestTimeout):
        body.read()


def test_a_timeout_that_is_not_the_bodys_own_passes_through(pipe):
    ours, _ = pipe
    body = worker.DeadlineInput(ours.makefile("rb"), time.monotonic() + 5)
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.1):
        body.read(1)


class GunicornResponse:
    """The part of gunicorn's response object the wrapper uses."""

    def __init__(self) -> None:
        self.closed, self.status = False, ""

    def force_close(self) -> None:
        self.closed = True

    def start_response(self, status: str, headers: list, exc_info: object = None) -> None:
        self.status = status


@pytest.mark.parametrize(
    ("status", "closes"), [("413 X", True), ("408 X", True), ("200 OK", False)]
)
def test_the_connection_is_closed_after_a_refused_body_only(status, closes):
    def app(environ, start_response):
        assert isinstance(environ["wsgi.input"], worker.DeadlineInput)
        start_response(status, [])
        return [b""]

    response = GunicornResponse()
    worker.bounded(app, 30)({"wsgi.input": None}, response.start_response)
    assert (response.status, response.closed) == (status, closes)


def bare_worker(per_address: int, trusted: list[str]) -> worker.Worker:
    made = worker.Worker.__new__(worker.Worker)
    made.per_address, made.open_per_address = per_address, worker.Counter()
    made.cfg = SimpleNamespace(forwarded_allow_ips=trusted)
    return made


@pytest.mark.parametrize(
    ("address", "trusted", "capped"),
    [
        ("203.0.113.7", ["127.0.0.1", "::1"], True),
        ("127.0.0.1", ["127.0.0.1", "::1"], False),
        ("10.1.2.3", ["10.0.0.0/8"], False),
        ("203.0.113.7", ["*"], False),
        ("", ["127.0.0.1"], False),
        ("not an address", ["127.0.0.1"], False),
    ],
)
def test_the_cap_spares_the_proxies_gunicorn_trusts(address, trusted, capped):
    assert bare_worker(2, trusted)._is_capped(address) is capped


def test_connections_over_an_addresses_cap_get_429_and_are_closed(monkeypatch, pipe):
    served: list[str] = []
    monkeypatch.setattr(
        GeventWorker, "handle", lambda self, listener, client, addr: served.append(addr[0])
    )
    capped = bare_worker(1, ["127.0.0.1"])
    capped.open_per_address["203.0.113.7"] = 1  # one connection of it is open already
    ours, theirs = pipe
    capped.handle(None, ours, ("203.0.113.7", 4000))
    assert theirs.recv(200).startswith(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10")
    capped.handle(None, None, ("198.51.100.2", 4000))
    assert served == ["198.51.100.2"]
    assert dict(capped.open_per_address) == {"203.0.113.7": 1}  # the served one was uncounted
