"""Load generators for 127.0.0.1: closed-loop throughput (wrk, else Python) and open-loop pacing.

Closed loop: a fixed number of keep-alive connections, each sending its next request as soon as
the last one is answered; measures the most the server does. Open loop: requests leave on a
fixed schedule whatever the server does, and latency counts from the scheduled moment, so a
slow answer cannot hide the requests it delayed (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .twilio import Signed

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_signed.lua"


@dataclass
class Outcome:
    """What a load run did: how many requests, answered with what, how fast."""

    generator: str
    requests: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    wrk_latency_ms: dict[str, float] = field(default_factory=dict)
    # Requests sent again because the pre-signed list ran out (each is a retried CallSid).
    repeats: int = 0
    # CPU microseconds the server's workers spent per request (set by the caller).
    cpu_us: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    if length:
        await reader.readexactly(length)
    return status


def closed_loop(
    host: str,
    port: int,
    requests: Sequence[Signed],
    seconds: float,
    connections: int = 32,
    generator: str = "auto",
) -> Outcome:
    """As many requests as the server answers in ``seconds`` over ``connections`` keep-alive
    connections: wrk with a Lua script cycling through the pre-signed requests if installed (or
    ``generator="wrk"``), else Python asyncio (slower, and it takes more CPU from the server)."""
    if generator == "wrk" or (generator == "auto" and wrk_available()):
        return _wrk(host, port, requests, seconds, connections)
    return asyncio.run(_python_closed_loop(host, port, requests, seconds, connections))


def _wrk(
    host: str, port: int, requests: Sequence[Signed], seconds: float, connections: int
) -> Outcome:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as listing:
        for signed in requests:
            listing.write(f"{signed.path}\t{signed.signature}\t{signed.body.decode()}\n")
    try:
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(WRK_SCRIPT),
                f"http://{host}:{port}/",
                "--",
                listing.name,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        Path(listing.name).unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON "))
    found = json.loads(line.removeprefix("WRK_JSON "))
    outcome = Outcome("wrk (1 thread, Lua)")
    outcome.requests = found["requests"]
    outcome.seconds = found["duration_us"] / 1e6
    outcome.errors = found["errors"]
    outcome.statuses = {200: found["requests"] - found["non2xx"]}
    if found["non2xx"]:
        outcome.statuses[0] = found["non2xx"]
    outcome.repeats = max(0, found["requests"] - len(requests))
    outcome.wrk_latency_ms = {k: v / 1000 for k, v in found["latency_us"].items()}
    return outcome


async def _python_closed_loop(
    host: str, port: int, requests: Sequence[Signed], seconds: float, connections: int
) -> Outcome:
    outcome = Outcome("python asyncio (closed loop)")
    next_index = 0
    deadline = 0.0

    async def worker() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                signed = requests[next_index % len(requests)]
                next_index += 1
                sent = time.perf_counter()
                writer.write(signed.raw)
                status = await _read_response(reader)
                outcome.latencies_ms.append((time.perf_counter() - sent) * 1000)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError):
            outcome.errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(worker() for _ in range(connections)))
    outcome.seconds = time.perf_counter() - started
    outcome.requests = sum(outcome.statuses.values())
    outcome.repeats = max(0, next_index - len(requests))
    return outcome


# gunicorn closes keep-alive connections idle for `keepalive` (5 s in our config); a request
# written on one it is closing would be lost, so older idle connections are dropped instead.
IDLE_LIMIT = 3.0


def _fresh(
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """A pooled connection used within ``IDLE_LIMIT`` seconds, or None (open a new one)."""
    while idle:
        reader, writer, used = idle.pop()
        if time.perf_counter() - used < IDLE_LIMIT and not reader.at_eof():
            return reader, writer
        writer.close()
    return None


def open_loop(
    host: str, port: int, requests: Sequence[Signed], rate: float, timeout: float = 10.0
) -> Outcome:
    """Send ``requests`` at a steady ``rate`` per second, each on its schedule whether or not
    earlier ones were answered (a new connection when none is free); latency is measured from
    the scheduled moment to the end of the answer."""
    return asyncio.run(_open_loop(host, port, requests, rate, timeout))


async def _open_loop(
    host: str, port: int, requests: Sequence[Signed], rate: float, timeout: float
) -> Outcome:
    outcome = Outcome(f"python asyncio (open loop, {rate:g}/s)")
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    opened: list[asyncio.StreamWriter] = []
    loop = asyncio.get_running_loop()

    async def one(signed: Signed, due: float) -> None:
        connection = _fresh(idle)
        try:
            if connection is None:
                connection = await asyncio.open_connection(host, port)
                opened.append(connection[1])
            reader, writer = connection
            writer.write(signed.raw)
            status = await asyncio.wait_for(_read_response(reader), timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            outcome.errors += 1
            return
        outcome.latencies_ms.append((loop.time() - due) * 1000)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        idle.append((reader, writer, time.perf_counter()))

    # A few connections ready before the clock starts, as a busy Twilio edge would have.
    for _ in range(4):
        reader, writer = await asyncio.open_connection(host, port)
        idle.append((reader, writer, time.perf_counter()))
        opened.append(writer)
    start = loop.time() + 0.05
    tasks = []
    for index, signed in enumerate(requests):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(signed, due)))
    await asyncio.gather(*tasks)
    outcome.seconds = loop.time() - start
    outcome.requests = sum(outcome.statuses.values())
    for writer in opened:
        writer.close()
    return outcome


async def send_schedule(
    targets: Sequence[tuple[str, int]],
    schedule: Sequence[tuple[float, int, Signed]],
    sent: dict[str, float],
    timeout: float = 10.0,
) -> Outcome:
    """Send each (seconds from now, target index, request) of ``schedule`` on time, open loop,
    on the running event loop; record in ``sent`` when each voice webhook left (perf_counter),
    and in the outcome each answer's latency from its scheduled moment."""
    outcome = Outcome("python asyncio (open loop, schedule)")
    idle: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]]] = {
        n: [] for n in range(len(targets))
    }
    opened: list[asyncio.StreamWriter] = []

    async def one(target: int, signed: Signed, due: float) -> None:
        connection = _fresh(idle[target])
        pool = idle[target]
        try:
            if connection is None:
                connection = await asyncio.open_connection(*targets[target])
                opened.append(connection[1])
            reader, writer = connection
            if signed.path.endswith("/voice"):
                sent[signed.call_sid] = time.perf_counter()
            writer.write(signed.raw)
            status = await asyncio.wait_for(_read_response(reader), timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            outcome.errors += 1
            return
        outcome.latencies_ms.append((time.perf_counter() - due) * 1000)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        pool.append((reader, writer, time.perf_counter()))

    start = time.perf_counter() + 0.05
    tasks = []
    for offset, target, signed in sorted(schedule, key=lambda item: item[0]):
        due = start + offset
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(target, signed, due)))
    await asyncio.gather(*tasks)
    outcome.seconds = time.perf_counter() - start
    outcome.requests = sum(outcome.statuses.values())
    for writer in opened:
        writer.close()
    return outcome


def warm_up(host: str, port: int, requests: Sequence[Signed], seconds: float = 2.0) -> Outcome:
    """Closed-loop traffic whose figures are thrown away: caches, pools and pages fill up."""
    return asyncio.run(_python_closed_loop(host, port, requests, seconds, 8))
