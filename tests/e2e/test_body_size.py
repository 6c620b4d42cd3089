"""Finding 4 against real gunicorn: a 50 MB body is refused unread and grows no worker."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callerid.cli.database import upgrade

from .conftest import server_env
from .server import Server

FIFTY_MB = 50 * 1024 * 1024
REQUEST = (
    "POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: junk\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n{length}\r\n\r\n"
)


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The limit is the same on every engine: SQLite alone, one worker whose memory we watch.
    folder = tmp_path_factory.mktemp("bodies")
    url = f"sqlite:///{folder / 'live.sqlite3'}"
    upgrade(url)
    live = Server(server_env(url, folder / "instance"), workers=1).start()
    yield live
    live.stop()


def worker_rss_mb(server: Server) -> float:
    assert server.process is not None
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, children
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def send_body(server: Server, header: str, body: Iterator[bytes]) -> bytes:
    """Send the request as far as the server lets us, then read its answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(REQUEST.format(length=header).encode())
        try:
            for piece in body:
                sock.sendall(piece)
        except OSError:
            pass  # the server hung up on the rest: what we want
        return read_all(sock)  # ends when the server hangs up


def read_all(sock: socket.socket) -> bytes:
    answer = b""
    try:
        while piece := sock.recv(65536):
            answer += piece
    except OSError:
        pass
    return answer


def pieces(total: int, size: int = 256 * 1024, chunked: bool = False) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield b"%x\r\n%s\r\n" % (size, block) if chunked else block
    if chunked:
        yield b"0\r\n\r\n"


def test_an_announced_50_mb_body_is_answered_413_without_sending_it(one_worker):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", one_worker.port), timeout=10) as sock:
        sock.sendall(REQUEST.format(length=f"Content-Length: {FIFTY_MB}").encode())
        answer = read_all(sock)  # ends when the server closes: it does not wait for the body
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_50_mb_body_grows_the_worker_by_less_than_100_mb(one_worker, chunked):
    before = worker_rss_mb(one_worker)
    header = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {FIFTY_MB}"
    answer = send_body(one_worker, header, pieces(FIFTY_MB, chunked=chunked))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert worker_rss_mb(one_worker) - before < 100
