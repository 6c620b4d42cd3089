"""Slow clients against one instance: do health checks and Twilio's webhooks stay answered?

    .venv/bin/python -m bench.slowclients [--clients 2100] [--addresses 21] [--seconds 45]

Opens CLIENTS connections to gunicorn (our config and worker, default deadlines: 10 s for
headers, 30 s for a body), spread over ADDRESSES loopback source addresses (127.0.1.x), each
sending a POST whose body then comes one byte every 2 s, as in issue 13's finding 1. Meanwhile
it asks /healthz and posts a signed voice webhook every half second from 127.0.0.1 and reports
their latency and failures, and how the flood's connections ended: refused at once (429, over
the per-address cap), cut at the body deadline (408), or still open when the run ends.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import report, twilio
from .server import Server, app_env

REQUEST = (
    b"POST /twilio/voice HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twilio-Signature: x\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n"
)


def open_flood(port: int, clients: int, addresses: int) -> list[socket.socket]:
    """``clients`` connections, each with a request's headers sent and its body pending."""
    flood = []
    for index in range(clients):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((f"127.0.1.{1 + index % addresses}", 0))
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(REQUEST)
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        flood.append(sock)
    return flood


def drip(flood: list[socket.socket], stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        for sock in flood:
            try:
                sock.send(b"a")
            except OSError:
                pass


def probe(server: Server, path: str, signed: twilio.Signed | None) -> tuple[int, float]:
    """(status or 0 when it failed, milliseconds) of one request, given up on after 10 s."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        if signed is None:
            connection.request("GET", path)
        else:
            headers = {
                "X-Twilio-Signature": signed.signature,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            connection.request("POST", path, body=signed.body, headers=headers)
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, (time.perf_counter() - started) * 1000


def endings(flood: list[socket.socket]) -> Counter[str]:
    """How each flood connection ended, as far as it has: its status line, or "open"."""
    found: Counter[str] = Counter()
    for sock in flood:
        try:
            answer = sock.recv(64)
            found[answer[9:12].decode() if answer else "closed"] += 1
        except BlockingIOError:
            found["open"] += 1
        except OSError:
            found["reset"] += 1
    return found


def run(clients: int, addresses: int, seconds: float, folder: Path) -> dict[str, Any]:
    from callerid.cli.database import upgrade

    url = f"sqlite:///{folder / 'slow.sqlite3'}"
    upgrade(url)
    # No proxy in front: loopback clients are capped like any others.
    env = app_env(url, folder / "instance", FORWARDED_ALLOW_IPS="192.0.2.1")
    env["CALLERID_PUBLIC_URL"] = "http://127.0.0.1"
    server = Server(env, folder / "gunicorn.log").start()
    flood: list[socket.socket] = []
    stop = threading.Event()
    try:
        flood = open_flood(server.port, clients, addresses)
        dripping = threading.Thread(target=drip, args=(flood, stop, 2.0), daemon=True)
        dripping.start()
        health: list[tuple[int, float]] = []
        hooks: list[tuple[int, float]] = []
        ended_at = time.monotonic() + seconds
        while time.monotonic() < ended_at:
            health.append(probe(server, "/healthz", None))
            (sid,) = twilio.call_sids(1)
            hooks.append(
                probe(server, "/twilio/voice", twilio.voice("127.0.0.1", sid, "+13125550187"))
            )
            time.sleep(0.5)
        found = endings(flood)
    finally:
        stop.set()
        for sock in flood:
            sock.close()
        server.stop()
    return {
        "clients": clients,
        "connected": len(flood),
        "addresses": addresses,
        "flood_endings": dict(found),
        "healthz": _summary(health),
        "webhook": _summary(hooks),
    }


def _summary(probes: list[tuple[int, float]]) -> dict[str, Any]:
    statuses = Counter(status for status, _ in probes)
    return {"statuses": dict(statuses), **report.latency_summary([ms for _, ms in probes])}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2100)
    parser.add_argument("--addresses", type=int, default=21, help="source addresses (1..250)")
    parser.add_argument("--seconds", type=float, default=45.0, help="probing time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="callerid-slow-") as folder:
        result = run(args.clients, args.addresses, args.seconds, Path(folder))
    rows = [
        [name, str(result[name]["statuses"]), result[name]["p50"], result[name]["max"]]
        for name in ("healthz", "webhook")
    ]
    print(report.table("during the flood, ms", ["probe", "statuses", "p50", "max"], rows))
    print(f"flood: {result['connected']} connected, ended as {result['flood_endings']}")
    report.save("slowclients", {"runs": [result]})
    return {"runs": [result]}


if __name__ == "__main__":
    main()
