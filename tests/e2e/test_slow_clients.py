"""Finding 1 against real gunicorn: slow clients are cut off at deadlines and capped per
address, so health checks and Twilio's webhooks keep being answered. Deadlines are set small
here (1 s for headers, 2 s for a body) and the flood is 150 sockets; the 2,100-client run is
bench.slowclients (docs/security.md has its figures)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from callerid.cli.database import upgrade

from ..twilio import sample, signature
from .conftest import server_env
from .server import Server

# Loopback has a whole /8: the flood comes from 127.0.0.2, the load balancer and Twilio from
# 127.0.0.1, so that the cap on the flood's address is seen to spare the others.
FLOOD_FROM = "127.0.0.2"
CAP = 40


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("slow")
    url = f"sqlite:///{folder / 'live.sqlite3'}"
    upgrade(url)
    env = server_env(
        url,
        folder / "instance",
        CALLERID_HEADER_TIMEOUT="1",
        CALLERID_BODY_TIMEOUT="2",
        CALLERID_CONNECTIONS_PER_ADDRESS=str(CAP),
        # No proxy here: loopback is a client like any other, not a trusted proxy.
        FORWARDED_ALLOW_IPS="192.0.2.1",
    )
    live = Server(env, workers=1).start()
    yield live
    live.stop()


def connect(server: Server, source: str = FLOOD_FROM) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(15)
    sock.connect(("127.0.0.1", server.port))
    return sock


def until_closed(sock: socket.socket, drip: bytes = b"", every: float = 0.2) -> bytes:
    """Drip ``drip`` a byte at a time until the server hangs up; return what it answered."""
    answer = b""
    sock.settimeout(every)
    for byte in [drip[i : i + 1] for i in range(len(drip))] or [b""] * 200:
        try:
            if byte:
                sock.sendall(byte)
            piece = sock.recv(4096)
            if not piece:
                return answer
            answer += piece
        except TimeoutError:
            continue
        except OSError:
            return answer
    raise AssertionError(f"still open; answered {answer[:200]!r}")


def body_request(length: int = 100) -> bytes:
    return (
        b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % length
    )


def test_headers_sent_too_slowly_are_cut_off_at_the_deadline(guarded):
    sock = connect(guarded)
    started = time.monotonic()
    with sock:
        until_closed(
            sock, b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
        )
    assert (
        time.monotonic() - started < 5
    )  # the deadline is 1 s; never the 40 s a byte a 0.2 s takes


def test_a_body_sent_too_slowly_is_answered_408_and_closed(guarded):
    sock = connect(guarded)
    with sock:
        sock.sendall(body_request())
        answer = until_closed(sock, b"CallSid=" + b"a" * 92)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_flood_of_slow_clients_leaves_health_checks_and_webhooks_answered(guarded):
    flood, refused = [], 0
    for _ in range(150):
        sock = connect(guarded)
        sock.sendall(body_request(10_000))
        flood.append(sock)
    stop = threading.Event()

    def drip() -> None:  # one byte per socket every half second: alive, never done
        while not stop.wait(0.5):
            for sock in flood:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass

    dripping = threading.Thread(target=drip, daemon=True)
    dripping.start()
    try:
        for _ in range(3):
            assert requests.get(guarded.url + "/healthz", timeout=5).status_code == 200
            params = sample("voice-inbound-us")
            headers = {"X-Twilio-Signature": signature(guarded.url + "/twilio/voice", params)}
            webhook = requests.post(
                guarded.url + "/twilio/voice", data=params, headers=headers, timeout=5
            )
            assert webhook.status_code == 200, guarded.log()[-2000:]
            time.sleep(0.5)
        answers = []
        for sock in flood:
            sock.settimeout(10)
            try:
                answers.append(sock.recv(4096)[:12])
            except OSError:
                answers.append(b"")
        refused = sum(answer == b"HTTP/1.1 429" for answer in answers)
        timed_out = sum(answer == b"HTTP/1.1 408" for answer in answers)
    finally:
        stop.set()
        dripping.join(5)
        for sock in flood:
            sock.close()
    assert (refused, timed_out) == (150 - CAP, CAP)
