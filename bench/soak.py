"""A bounded soak: calls ring, are answered and end at a steady rate while screens stay open.

    .venv/bin/python -m bench.soak [--seconds 60 --rate 20 --screens 50]
    .venv/bin/python -m bench.soak --minutes 10 --screens 200

Each call is a signed voice webhook, then status callbacks ``in-progress`` (after 1 s) and
``completed`` (after 3 s), so every screen should see ``call.ringing``, ``call.answered`` and
``call.ended`` once per call. Reports events lost or duplicated per kind and the resident memory
of the gunicorn master and workers sampled from /proc over time (expected: flat).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from typing import Any

from . import load, report, sse, twilio
from .dataset import Size
from .server import Server, app_env, raise_open_files
from .webhook import callers_for
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

KINDS = (
    ("call.ringing", 0.0, None),
    ("call.answered", 1.0, "in-progress"),
    ("call.ended", 3.0, "completed"),
)


def schedule_calls(
    server: Server, callers: list[str], count: int, rate: float
) -> list[tuple[float, int, twilio.Signed]]:
    host = f"{server.host}:{server.port}"
    schedule = []
    for index, call_sid in enumerate(twilio.call_sids(count)):
        caller = callers[index % len(callers)]
        start = index / rate
        schedule.append((start, 0, twilio.voice(host, call_sid, caller)))
        for sequence, (_kind, delay, status) in enumerate(KINDS[1:], 1):
            schedule.append(
                (start + delay, 0, twilio.status(host, call_sid, caller, status, sequence))
            )
    return schedule


async def _soak(
    server: Server, token: str, callers: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    target = [(server.host, server.port)]
    screens, refused = await sse.open_screens(target, token, args.screens, incremental=True)
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()

    async def sample() -> None:
        while True:
            rss = server.rss_kib()
            samples.append(
                {
                    "second": round(time.perf_counter() - started, 1),
                    "rss_kib": rss,
                    "total_mib": round(sum(rss.values()) / 1024, 1),
                }
            )
            await asyncio.sleep(args.sample_every)

    sampler = asyncio.create_task(sample())
    count = int(args.seconds * args.rate)
    sent: dict[str, float] = {}
    outcome = await load.send_schedule(
        target, schedule_calls(server, callers, count, args.rate), sent
    )
    # Stragglers: wait (at most 10 s) until every screen holds its stream.open and 3 events per
    # call; counting is cheap, comparing call by call is done once at the end.
    wanted = 1 + len(KINDS) * len(sent)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        if all(len(screen.received) >= wanted for screen in screens):
            break
        await asyncio.sleep(0.2)
    sampler.cancel()
    samples.append(
        {
            "second": round(time.perf_counter() - started, 1),
            "rss_kib": server.rss_kib(),
            "total_mib": round(sum(server.rss_kib().values()) / 1024, 1),
        }
    )
    per_kind = {}
    for kind, _delay, _status in KINDS:
        found = sse.deliveries(screens, sent, kind)
        per_kind[kind] = {
            "expected": found.expected,
            "lost": found.lost,
            "duplicated": found.duplicated,
            "latency_ms": report.latency_summary(found.latencies_ms)
            if kind == "call.ringing"
            else None,
        }
    disconnected = sum(1 for screen in screens if screen.lost_at is not None)
    for screen in screens:
        screen.close()
    return {
        "calls": count,
        "screens": args.screens,
        "refused": refused,
        "disconnected": disconnected,
        "webhook_statuses": outcome.statuses,
        "webhook_errors": outcome.errors,
        "webhook_latency_ms": report.latency_summary(outcome.latencies_ms),
        "events": per_kind,
        "memory": samples,
    }


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"soak-{backend}")
    callers = callers_for(url, 2000)
    token = sse.token(url, "staff")
    instance = workspace.instance(f"soak-{backend}")
    with Server(app_env(url, instance), instance / "gunicorn.log") as server:
        found = asyncio.run(_soak(server, token, callers, args))
        found["server_errors"] = server.errors()[:20]
    return {"backend": backend, **found}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--minutes", type=float, help="instead of --seconds")
    parser.add_argument("--rate", type=float, default=20.0, help="new calls per second")
    parser.add_argument("--screens", type=int, default=50)
    parser.add_argument(
        "--sample-every", type=float, default=5.0, help="seconds between RSS samples"
    )
    args = parser.parse_args(argv)
    if args.minutes:
        args.seconds = args.minutes * 60
    raise_open_files()
    results: dict[str, Any] = {"size": describe(args), "rate": args.rate, "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    print_results(results, args)
    report.save("soak", results)
    return results


def print_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for run in results["runs"]:
        for kind, found in run["events"].items():
            rows.append(
                [f"{run['backend']} {kind}", found["expected"], found["lost"], found["duplicated"]]
            )
    print(
        report.table(
            f"soak: {args.seconds:g} s at {args.rate:g} calls/s, {args.screens} screens "
            "(events expected = calls x screens)",
            ["run", "expected", "lost", "duplicated"],
            rows,
        )
    )
    for run in results["runs"]:
        memory = run["memory"]
        rows = [[sample["second"], sample["total_mib"]] for sample in memory]
        print()
        print(
            report.table(
                f"{run['backend']}: gunicorn resident memory (master + workers)",
                ["second", "MiB"],
                rows,
            )
        )
        ringing = run["events"]["call.ringing"]["latency_ms"]
        print(
            f"{run['backend']}: ringing p50 {ringing['p50']} ms, p99 {ringing['p99']} ms; webhook "
            f"p99 {run['webhook_latency_ms']['p99']} ms; statuses {run['webhook_statuses']}; "
            f"refused {len(run['refused'])}, cut {run['disconnected']}, "
            f"server errors {len(run['server_errors'])}"
        )


if __name__ == "__main__":
    main()
