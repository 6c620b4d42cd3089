"""Screen pop: from a signed voice webhook sent to the card's event on every open screen.

    .venv/bin/python -m bench.screenpop [--screens 50] [--webhooks 50 --rate 10]
    .venv/bin/python -m bench.screenpop --screens 1000 --backend postgresql --instances 2

N screens hold ``/events`` streams (staff bearer token) spread over the gunicorn workers, or over
two gunicorn instances sharing one database (``--instances 2``, screens and webhooks split between
them); K voice webhooks go out at a steady rate. For every call and every screen: the time from
sending the webhook to that screen holding the whole ``call.ringing`` event; and whether any
screen missed a call or got one twice (target: p99 < 100 ms at 1000 screens, nothing lost).

To tell the parts apart it also reports the webhook's answer time, the first screen's latency
(the webhook plus one delivery), each screen's lag behind that first one (the fan-out), and the
CPU per call of the server's workers and of the screens (this process): on a shared machine the
wall times grow with other work, the CPU times much less.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import load, report, sse, twilio
from .dataset import Size
from .server import Server, app_env, raise_open_files
from .webhook import callers_for
from .workspace import Workspace, add_common_arguments, chosen_backends, describe


async def _measure(
    servers: list[Server], token: str, callers: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    targets = [(server.host, server.port) for server in servers]
    # --split-roles: screens on the first instance, webhooks on the second, as a reverse proxy
    # routing /events and /twilio to different instances would have it.
    screen_targets = targets[:1] if args.split_roles else targets
    callers_at = list(range(1, len(servers))) if args.split_roles else list(range(len(servers)))
    screens, refused = await sse.open_screens(screen_targets, token, args.screens)
    spread = {
        f"{n}:{pid}": count
        for n, server in enumerate(servers)
        for pid, count in server.connections_per_worker().items()
    }
    await asyncio.sleep(0.5)  # every follower has read the table up to now
    schedule = []
    for index in range(args.webhooks):
        target = callers_at[index % len(callers_at)]
        server = servers[target]
        (signed,) = twilio.voice_calls(
            f"{server.host}:{server.port}", [callers[index % len(callers)]], 1
        )
        schedule.append((index / args.rate, target, signed))
    sent: dict[str, float] = {}
    # CPU spent while the calls are announced: the servers' workers and this process's screens.
    # Unlike wall time it barely grows when other work competes for the cores.
    cpu_before = [server.cpu_seconds() for server in servers], time.process_time()
    outcome = await load.send_schedule(targets, schedule, sent)
    # Wait for the stragglers: every screen should hold every call's event.
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
        if sse.deliveries(screens, sent, "call.ringing").lost == 0:
            break
    await asyncio.sleep(0.5)  # the slowest deliveries' CPU belongs to the run
    workers_cpu = sum(s.cpu_seconds() for s in servers) - sum(cpu_before[0])
    screens_cpu = time.process_time() - cpu_before[1]
    found = sse.deliveries(screens, sent, "call.ringing")
    for screen in screens:
        screen.close()
    return {
        "screens": args.screens,
        "refused": refused,
        "webhooks": args.webhooks,
        "rate": args.rate,
        "instances": len(servers),
        "split_roles": args.split_roles,
        "connections_per_worker": spread,
        "webhook_statuses": outcome.statuses,
        "webhook_errors": outcome.errors,
        "webhook_latency_ms": report.latency_summary(outcome.latencies_ms),
        "expected": found.expected,
        "delivered": len(found.latencies_ms),
        "lost": found.lost,
        "duplicated": found.duplicated,
        "out_of_order": found.out_of_order,
        "disconnected": found.disconnected,
        "bad_status": found.bad_status,
        "latency_ms": report.latency_summary(found.latencies_ms),
        "last_screen_ms": report.latency_summary(found.last_screen_ms),
        "first_screen_ms": report.latency_summary(found.first_screen_ms),
        "behind_first_ms": report.latency_summary(found.behind_first_ms),
        "workers_cpu_ms_per_call": round(workers_cpu * 1000 / max(1, args.webhooks), 2),
        "screens_cpu_ms_per_call": round(screens_cpu * 1000 / max(1, args.webhooks), 2),
        "load_average": os.getloadavg(),
    }


def run_backend(
    args: argparse.Namespace,
    workspace: Workspace,
    backend: str,
    *,
    url: str | None = None,
    extra_env: dict[str, str] | None = None,
    before: Callable[[list[Server]], None] | None = None,
) -> dict[str, Any]:
    """One run; ``url`` (a copy of the dataset), ``extra_env`` and ``before`` (called once the
    servers are up) let bench.hooks run the same measure with webhook endpoints."""
    size = Size(args.customers, args.calls)
    url = url or workspace.copy(backend, size, f"screenpop-{backend}")
    callers = callers_for(url, 1000)
    token = sse.token(url, "staff")
    servers = []
    try:
        for number in range(args.instances):
            instance = workspace.instance(f"screenpop-{backend}-{number}")
            env = app_env(url, instance, **(extra_env or {}))
            servers.append(Server(env, instance / "gunicorn.log").start())
        if before is not None:
            before(servers)
        for server in servers:
            warm = twilio.voice_calls(f"{server.host}:{server.port}", callers, 300)
            load.warm_up(server.host, server.port, warm, 1.0)
        found = asyncio.run(_measure(servers, token, callers, args))
        found["rss_kib"] = [server.rss_kib() for server in servers]
        found["server_errors"] = [line for server in servers for line in server.errors()][:20]
    finally:
        for server in servers:
            server.stop()
    return {"backend": backend, **found}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.screenpop", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument("--webhooks", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    parser.add_argument(
        "--instances", type=int, default=1, help="gunicorn instances sharing the database"
    )
    parser.add_argument(
        "--split-roles",
        action="store_true",
        help="with --instances 2: screens on the first instance only, webhooks on the second",
    )
    args = parser.parse_args(argv)
    if args.split_roles and args.instances < 2:
        parser.error("--split-roles needs --instances 2 or more")
    raise_open_files()
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = []
    for run in results["runs"]:
        latency, last = run["latency_ms"], run["last_screen_ms"]
        rows.append(
            [
                f"{run['backend']} x{run['instances']}" + (" split" if run["split_roles"] else ""),
                run["screens"],
                run["webhooks"],
                latency["p50"],
                latency["p99"],
                latency["max"],
                last["p99"],
                run["webhook_latency_ms"]["p50"],
                run["first_screen_ms"]["p50"],
                run["behind_first_ms"]["p99"],
                run["workers_cpu_ms_per_call"],
                run["screens_cpu_ms_per_call"],
                run["lost"],
                run["duplicated"],
                run["disconnected"] + len(run["refused"]),
            ]
        )
    print(
        report.table(
            f"screen pop: webhook sent -> event on every screen (ms), {args.rate:g} calls/s",
            [
                "run",
                "screens",
                "calls",
                "p50",
                "p99",
                "max",
                "last p99",
                "answer p50",
                "first p50",
                "fan-out p99",
                "server CPU/call",
                "screens CPU/call",
                "lost",
                "dup",
                "cut/refused",
            ],
            rows,
        )
    )
    for run in results["runs"]:
        print(f"{run['backend']}: connections per worker {run['connections_per_worker']}")
        for line in run["refused"][:5] + run["server_errors"][:5]:
            print(f"  {run['backend']}: {line}")
    report.save("screenpop", results)
    return results


if __name__ == "__main__":
    main()
