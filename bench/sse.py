"""Many front-desk screens on one asyncio loop: each holds one /events stream on a raw socket.

A screen only timestamps the bytes it receives (asyncio Protocol, no parsing while the clock
runs); events are parsed afterwards, each stamped with the arrival of the chunk that completed
it. A thousand screens thus cost a thousand sockets, not a thousand threads.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.orm import Session

_CALL_SID = re.compile(rb'"call_sid":\s*"([^"]+)"')


@dataclass
class Received:
    id: int | None
    kind: str
    call_sid: str | None
    at: float


class Screen(asyncio.Protocol):
    """One stream: HTTP/1.0 (so the body comes unchunked) with a bearer token.

    By default a screen keeps the raw chunks and their arrival times and parses them after the
    run (the least work while the clock runs); ``incremental`` screens parse as data arrives and
    keep only the events, for long soaks where raw bytes would fill the memory.
    """

    def __init__(
        self, host: str, port: int, token: str, number: int, *, incremental: bool = False
    ) -> None:
        self.number = number
        self.port = port
        self.incremental = incremental
        self.request = (
            f"GET /events HTTP/1.0\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        self.chunks: list[tuple[float, bytes]] = []
        self.status = 0
        self.received: list[Received] = []
        self._buffer = b""
        self._in_body = False
        self.opened = asyncio.get_running_loop().create_future()
        self.lost_at: float | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_connection hands a stream protocol a full Transport, the kind with write().
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        if not self.opened.done() and b"stream.open" in data:
            self.opened.set_result(True)
        if not self.incremental:
            self.chunks.append((at, data))
            return
        self._buffer += data
        if not self._in_body:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            self.status = int(self._buffer[9:12]) if self._buffer.startswith(b"HTTP/") else 0
            self._buffer = self._buffer[head_end + 4 :]
            self._in_body = True
        consumed = 0
        for end, event in _events(self._buffer, 0):
            event.at = at
            self.received.append(event)
            consumed = end
        self._buffer = self._buffer[consumed:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_at = time.perf_counter()
        if not self.opened.done():
            got = b"".join(chunk for _at, chunk in self.chunks)[:200] or self._buffer[:200]
            self.opened.set_exception(ConnectionError(f"screen {self.number} closed: {got!r}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def events(self) -> tuple[int, list[Received]]:
        """The HTTP status and every event this screen received, in order."""
        if self.incremental:
            return self.status, self.received
        return parse(self.chunks)


def _events(data: bytes, position: int) -> Iterator[tuple[int, Received]]:
    """Each complete event in ``data`` from ``position``: (offset after it, event)."""
    while True:
        end = data.find(b"\n\n", position)
        if end < 0:
            return
        block = data[position:end]
        position = end + 2
        fields: dict[bytes, bytes] = {}
        for line in block.split(b"\n"):
            if line.startswith(b":"):
                continue
            name, _, value = line.partition(b":")
            fields[name] = value.removeprefix(b" ")
        if b"event" not in fields:
            continue
        sid = _CALL_SID.search(fields.get(b"data", b""))
        yield (
            position,
            Received(
                int(fields[b"id"]) if b"id" in fields else None,
                fields[b"event"].decode(),
                sid.group(1).decode() if sid else None,
                0.0,
            ),
        )


def parse(chunks: list[tuple[float, bytes]]) -> tuple[int, list[Received]]:
    """The status and events of raw chunks, each event stamped with the arrival of the chunk
    that completed it."""
    data = b"".join(chunk for _at, chunk in chunks)
    ends, total = [], 0
    for _at, chunk in chunks:
        total += len(chunk)
        ends.append(total)
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return 0, []
    status = int(data[9:12]) if data.startswith(b"HTTP/") else 0
    found = []
    for end, event in _events(data, head_end + 4):
        event.at = chunks[bisect.bisect_left(ends, end)][0]
        found.append(event)
    return status, found


async def open_screens(
    targets: list[tuple[str, int]],
    token: str,
    count: int,
    timeout: float = 60.0,
    *,
    incremental: bool = False,
    batch_size: int = 50,
) -> tuple[list[Screen], list[str]]:
    """Open ``count`` screens spread round-robin over ``targets`` and wait until each has its
    ``stream.open``; connections are opened in batches of ``batch_size`` (50: the accept queue
    keeps up; ``count``: every screen at once, as after a deploy).
    Returns the open screens and, for each refused one, what the server answered."""
    loop = asyncio.get_running_loop()
    screens: list[Screen] = []
    for start in range(0, count, batch_size):
        batch = []
        for number in range(start, min(count, start + batch_size)):
            host, port = targets[number % len(targets)]
            new_screen = partial(Screen, host, port, token, number, incremental=incremental)
            batch.append(loop.create_connection(new_screen, host, port))
        # gather keeps the order of its arguments, so screen i is still number i.
        screens.extend(screen for _transport, screen in await asyncio.gather(*batch))
    done = await asyncio.wait_for(
        asyncio.gather(*(s.opened for s in screens), return_exceptions=True), timeout
    )
    refused = [str(result) for result in done if isinstance(result, BaseException)]
    return [s for s, result in zip(screens, done, strict=True) if result is True], refused


@dataclass
class Delivery:
    """Every screen's view of the calls announced: latency, losses, duplicates."""

    latencies_ms: list[float] = field(default_factory=list)
    last_screen_ms: list[float] = field(default_factory=list)
    # The first screen's latency is the webhook's own time plus one delivery; each screen's
    # lag behind that first one is the cost of fanning the event out to every screen.
    first_screen_ms: list[float] = field(default_factory=list)
    behind_first_ms: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    disconnected: int = 0
    bad_status: int = 0
    expected: int = 0


def deliveries(screens: list[Screen], sent: dict[str, float], kind: str) -> Delivery:
    """Compare what each screen got (events of ``kind``) with ``sent`` (CallSid -> send time)."""
    found = Delivery(expected=len(sent) * len(screens))
    last: dict[str, float] = {}
    first: dict[str, float] = {}
    arrivals: list[tuple[str, float]] = []
    for screen in screens:
        status, events = screen.events()
        if status != 200:
            found.bad_status += 1
        if screen.lost_at is not None:
            found.disconnected += 1
        ids = [event.id for event in events if event.id is not None]
        found.out_of_order += sum(1 for a, b in zip(ids, ids[1:], strict=False) if b <= a)
        seen: set[str] = set()
        for event in events:
            if event.kind != kind or event.call_sid not in sent:
                continue
            if event.call_sid in seen:
                found.duplicated += 1
                continue
            seen.add(event.call_sid)
            found.latencies_ms.append((event.at - sent[event.call_sid]) * 1000)
            last[event.call_sid] = max(last.get(event.call_sid, 0.0), event.at)
            first[event.call_sid] = min(first.get(event.call_sid, event.at), event.at)
            arrivals.append((event.call_sid, event.at))
        found.lost += len(set(sent) - seen)
    found.last_screen_ms = [(at - sent[sid]) * 1000 for sid, at in last.items()]
    found.first_screen_ms = [(at - sent[sid]) * 1000 for sid, at in first.items()]
    found.behind_first_ms = [(at - first[sid]) * 1000 for sid, at in arrivals]
    return found


def token(url: str, role: str = "staff", kind: str = "user", name: str = "") -> str:
    """A bearer token of ``kind`` for a ``role`` user (created if missing), issued with our own
    functions; a ``phone`` token speaks for the phone system ``name``."""
    from sqlalchemy import create_engine, select

    from callerid.auth import create_user, tokens
    from callerid.models import User

    name = name or f"bench-{role}"
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                user = create_user(session, name, role, "bench-password")
            issued = tokens.issue(session, user, kind=kind, source=name)
            session.commit()
    finally:
        engine.dispose()
    return issued
