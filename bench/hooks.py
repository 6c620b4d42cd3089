"""Outbound webhooks under a call load, and a backlog that waits in the database.

    .venv/bin/python -m bench.hooks [--rounds 3] [--webhooks 100 --rate 10] [--backend both]
    .venv/bin/python -m bench.hooks --backlog 10000

Alternates screen-pop runs (bench.screenpop: voice webhooks at a steady rate, screens open)
without endpoints and with ``--endpoints`` of them subscribed to every event, one of which
accepts TCP and never answers; reports the median over rounds of the voice webhook's and the
screen pop's p50 and p99 each way, and the deliveries the live receivers got. Target: p50
within 10 %, p99 within 25 % of the runs without endpoints.

``--backlog N`` instead appends N events for an endpoint whose address refuses every connection
and samples the workers' memory while the dispatchers work through them: it should stay flat
(the backlog waits in the database, not in a process).
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from statistics import median
from typing import Any

from sqlalchemy import create_engine, text

from . import report, screenpop, sse
from .dataset import Size
from .postgres import free_port
from .server import Server, app_env, raise_open_files
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

ALLOW = "127.0.0.1/32"


class Receivers:
    """Endpoints on loopback: ``live`` answer 204 at once and count; one listener accepts
    connections and never answers."""

    def __init__(self, live: int) -> None:
        self.count = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    owner.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler) for _ in range(live)]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.silent = socket.socket()
        self.silent.bind(("127.0.0.1", 0))
        self.silent.listen(64)

    def urls(self) -> list[str]:
        live = [f"http://127.0.0.1:{s.server_address[1]}/hook" for s in self.servers]
        return [*live, f"http://127.0.0.1:{self.silent.getsockname()[1]}/never"]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.silent.close()


def register(server: Server, token: str, urls: list[str]) -> None:
    """Every URL as an endpoint subscribed to every event, through the API as a manager."""
    for url in urls:
        request = urllib.request.Request(
            f"{server.url}/api/webhooks",
            data=json.dumps({"url": url, "event_types": EVERY}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 201


EVERY = ["call.ringing", "call.answered", "call.ended", "call.missed", "customer.updated"]


def one_round(
    args: argparse.Namespace, workspace: Workspace, backend: str, endpoints: int
) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"hooks-{backend}")
    receivers = Receivers(max(0, endpoints - 1)) if endpoints else None
    setup = None
    if receivers is not None:
        manager = sse.token(url, "manager")
        urls = receivers.urls()

        def setup(servers: list[Server]) -> None:
            register(servers[0], manager, urls)

    try:
        found = screenpop.run_backend(
            args, workspace, backend, url=url, extra_env={"CALLERID_WEBHOOK_ALLOW_NETS": ALLOW},
            before=setup,
        )  # fmt: skip
        time.sleep(2)  # let the last deliveries land
    finally:
        if receivers is not None:
            receivers.close()
    found["endpoints"] = endpoints
    found["delivered"] = receivers.count if receivers else 0
    return found


def alternate(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    rounds: dict[int, list[dict[str, Any]]] = {0: [], args.endpoints: []}
    for _ in range(args.rounds):
        for endpoints in (0, args.endpoints):
            rounds[endpoints].append(one_round(args, workspace, backend, endpoints))
    summary = {}
    for endpoints, runs in rounds.items():
        summary[endpoints] = {
            "webhook_p50": median(r["webhook_latency_ms"]["p50"] for r in runs),
            "webhook_p99": median(r["webhook_latency_ms"]["p99"] for r in runs),
            "pop_p50": median(r["latency_ms"]["p50"] for r in runs),
            "pop_p99": median(r["latency_ms"]["p99"] for r in runs),
            "lost": sum(r["lost"] for r in runs),
            "delivered": [r["delivered"] for r in runs],
        }
    return {"backend": backend, "summary": summary, "rounds": rounds}


def backlog(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"hooks-backlog-{backend}")
    instance = workspace.instance(f"hooks-backlog-{backend}")
    manager = sse.token(url, "manager")
    refused = f"http://127.0.0.1:{free_port()}/nobody"
    env = app_env(url, instance, CALLERID_WEBHOOK_ALLOW_NETS=ALLOW)
    samples = []
    with Server(env, instance / "gunicorn.log") as server:
        register(server, manager, [refused])
        _append_events(url, args.backlog)
        began = time.perf_counter()
        while time.perf_counter() - began < args.backlog_seconds:
            samples.append(sum(server.rss_kib().values()))
            time.sleep(1)
    return {
        "backend": backend,
        "events": args.backlog,
        "rss_kib_first": samples[0],
        # Once the first rounds have run (imports, pools): growth after this is the backlog's.
        "rss_kib_settled": samples[min(10, len(samples) - 1)],
        "rss_kib_last": samples[-1],
        "rss_kib_max": max(samples),
        "rss_kib_samples": samples,
        "deliveries": _count(url),
    }


def _append_events(url: str, count: int) -> None:
    from sqlalchemy.orm import Session

    from callerid.events import store

    engine = create_engine(url)
    card = {"call_sid": "CA0", "status": "ringing", "customer": None, "from": "+14155550134"}
    with Session(engine) as session:
        for start in range(0, count, 1000):
            store.append_many(
                session.connection(), "call.ringing", [card] * min(1000, count - start)
            )
            session.commit()
    engine.dispose()


def _count(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status, count(*) FROM webhook_deliveries GROUP BY status")
        ).all()
    engine.dispose()
    return {status: count for status, count in rows}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.hooks", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--screens", type=int, default=20)
    parser.add_argument("--webhooks", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--backlog", type=int, default=0, help="events in a backlog run")
    parser.add_argument("--backlog-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    args.instances, args.split_roles = 1, False
    raise_open_files()
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            run = backlog if args.backlog else alternate
            results["runs"].append(run(args, workspace, backend))
    if args.backlog:
        rows = [
            [r["backend"], r["events"], r["rss_kib_first"], r["rss_kib_settled"],
             r["rss_kib_last"], r["rss_kib_max"], json.dumps(r["deliveries"])]
            for r in results["runs"]
        ]  # fmt: skip
        print(report.table("webhook backlog: workers' RSS (KiB; settled: after 10 s)",
                           ["backend", "events", "first", "settled", "last", "max", "deliveries"],
                           rows))  # fmt: skip
    else:
        rows = [
            [r["backend"], endpoints, s["webhook_p50"], s["webhook_p99"], s["pop_p50"],
             s["pop_p99"], s["lost"], ",".join(map(str, s["delivered"]))]
            for r in results["runs"]
            for endpoints, s in r["summary"].items()
        ]  # fmt: skip
        print(report.table(
            f"calls with and without webhook endpoints (ms, median of {args.rounds} rounds)",
            ["backend", "endpoints", "webhook p50", "webhook p99", "pop p50", "pop p99", "lost",
             "delivered"],
            rows,
        ))  # fmt: skip
    report.save("hooks", results)
    return results


if __name__ == "__main__":
    main()
