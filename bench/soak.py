"""A bounded soak: calls ring, are answered and end at a steady rate while screens stay open.

    .venv/bin/python -m bench.soak [--seconds 60 --rate 20 --screens 50]
    .venv/bin/python -m bench.soak --minutes 10 --screens 200

Each call is a signed voice webhook, then status callbacks ``in-progress`` (after 1 s) and
``completed`` (after 3 s), so every screen should see ``call.ringing``, ``call.answered`` and
``call.ended`` once per call. Reports, per kind, the calls whose event never reached a screen,
and splits that in two by reading the events table afterwards: calls for which the server never
wrote the event (a webhook that failed, or a status overtaken by a later one), and events it wrote
that a screen did not receive (lost in delivery) or received twice. Also samples the resident
memory of the gunicorn master and each worker from /proc, and the load average (expected: flat).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import create_engine, func, select

from callerid.models import Call, Event

from . import load, report, sse, twilio
from .dataset import Size
from .ledger import Stored, stored_events
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
    server: Server, url: str, token: str, callers: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    target = [(server.host, server.port)]
    first_id = latest_event_id(url)
    screens, refused = await sse.open_screens(target, token, args.screens, incremental=True)
    samples: list[dict[str, Any]] = []
    started = time.perf_counter()

    async def sample() -> None:
        while True:
            samples.append(memory_sample(server, started))
            await asyncio.sleep(args.sample_every)

    sampler = asyncio.create_task(sample())
    count = int(args.seconds * args.rate)
    sent: dict[str, float] = {}
    outcome = await load.send_schedule(
        target, schedule_calls(server, callers, count, args.rate), sent
    )
    stored = await settle(screens, url, first_id, set(sent))
    sampler.cancel()
    samples.append(memory_sample(server, started))
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
    states = call_states(url, set(sent))
    return {
        "calls": count,
        "screens": args.screens,
        "refused": refused,
        "disconnected": disconnected,
        "webhook_statuses": outcome.statuses,
        "webhook_errors": outcome.errors,
        "webhook_latency_ms": report.latency_summary(outcome.latencies_ms),
        "events": per_kind,
        "written": written(stored, sent, states),
        "delivery": delivery(screens, stored),
        "memory": samples,
    }


_FAILURE = re.compile(r"WARNING (\S+): (.*?): (\w+):.*?(?:\(and (\d+) more like it\))?$")


def unrecorded(log: str) -> dict[str, int]:
    """Failures the server logged, by logger and error. Overload is logged once a second per
    logger and error, with a count of the others (whatever their request): a lower bound, since
    the last second's count is never logged."""
    found: dict[str, int] = {}
    for line in log.splitlines():
        if match := _FAILURE.search(line):
            logger, _message, error, more = match.groups()
            key = f"{logger}: {error}"
            found[key] = found.get(key, 0) + 1 + int(more or 0)
    return found


async def settle(
    screens: list[sse.Screen], url: str, first_id: int, calls: set[str], limit: float = 60.0
) -> list[Stored]:
    """Wait until the server has written no new event for ``calls`` for 2 s and every screen
    holds as many events as were written (at most ``limit`` seconds); return those written.

    A webhook the load generator gave up on may still be running in the server, and write its
    event later: counting before it settles would call that event lost."""
    deadline = time.perf_counter() + limit
    count, changed = -1, time.perf_counter()
    while True:
        stored = await asyncio.to_thread(stored_events, url, first_id, calls)
        now = time.perf_counter()
        if len(stored) != count:
            count, changed = len(stored), now
        # Counting is cheap (each screen's first message is stream.open); comparing event by
        # event is done once, at the end.
        delivered = all(len(screen.received) - 1 >= count for screen in screens)
        if (delivered and now - changed >= 2.0) or now > deadline:
            return stored
        await asyncio.sleep(0.5)


def memory_sample(server: Server, started: float) -> dict[str, Any]:
    rss = server.rss_kib()
    return {
        "second": round(time.perf_counter() - started, 1),
        "rss_kib": rss,
        "total_mib": round(sum(rss.values()) / 1024, 1),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def latest_event_id(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.max(Event.position))) or 0
    finally:
        engine.dispose()


def call_states(url: str, calls: set[str]) -> dict[str, tuple[str, bool]]:
    """CallSid -> (status, answered) of each of ``calls`` the server recorded."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Call.call_sid, Call.status, Call.answered_at)).all()
    finally:
        engine.dispose()
    return {sid: (status, answered is not None) for sid, status, answered in rows if sid in calls}


def written(
    stored: list[Stored],
    sent: dict[str, float],
    states: dict[str, tuple[str, bool]],
) -> dict[str, Any]:
    """Per kind: calls for which the server wrote no event, and calls with more than one. A call
    missing ``call.answered`` is either answered in the database all the same (its in-progress
    callback came after completed: recorded, never announced) or its callback went unrecorded."""
    found: dict[str, Any] = {}
    for kind, _delay, _status in KINDS:
        per_call: dict[str, int] = {}
        for _id, stored_kind, call_sid in stored:
            if stored_kind == kind:
                per_call[call_sid] = per_call.get(call_sid, 0) + 1
        missing = set(sent) - set(per_call)
        found[kind] = {
            "not_written": len(missing),
            "written_twice": sum(1 for count in per_call.values() if count > 1),
            "call_not_recorded": sum(1 for sid in missing if sid not in states),
        }
        if kind == "call.answered":
            found[kind]["answered_unannounced"] = sum(
                1 for sid in missing if states.get(sid, ("", False))[1]
            )
    return found


def delivery(screens: list[sse.Screen], stored: list[Stored]) -> dict[str, Any]:
    """Each screen's events against the events table: what it missed, what it got twice."""
    wanted = {event_id for event_id, _kind, _sid in stored}
    lost = duplicated = screens_missing = 0
    for screen in screens:
        _status, events = screen.events()
        ids = [event.id for event in events if event.id in wanted]
        missing = len(wanted - set(ids))
        lost += missing
        duplicated += len(ids) - len(set(ids))
        screens_missing += missing > 0
    return {
        "events_written": len(wanted),
        "expected": len(wanted) * len(screens),
        "received": sum(
            1 for screen in screens for event in screen.events()[1] if event.id in wanted
        ),
        "lost": lost,
        "duplicated": duplicated,
        "screens_missing_some": screens_missing,
    }


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"soak-{backend}")
    callers = callers_for(url, 2000)
    token = sse.token(url, "staff")
    instance = workspace.instance(f"soak-{backend}")
    with Server(app_env(url, instance), instance / "gunicorn.log") as server:
        found = asyncio.run(_soak(server, url, token, callers, args))
        found["server_errors"] = server.errors()[:20]
        found["master_pid"] = server.process.pid if server.process else None
        found["unrecorded"] = unrecorded(server.log())
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
    rows = []
    for run in results["runs"]:
        for kind, found in run["written"].items():
            rows.append(
                [
                    f"{run['backend']} {kind}",
                    found["not_written"],
                    found["call_not_recorded"],
                    found.get("answered_unannounced", "-"),
                    found["written_twice"],
                ]
            )
    header = ["run", "none", "of which no call", "of which answered all the same", "twice"]
    print()
    print(report.table("calls whose event the server wrote", header, rows))
    rows = [
        [run["backend"], *(run["delivery"][key] for key in DELIVERY_COLUMNS)]
        for run in results["runs"]
    ]
    print()
    print(
        report.table("events written vs received by the screens", ["run", *DELIVERY_COLUMNS], rows)
    )
    for run in results["runs"]:
        memory = run["memory"]
        print()
        print(
            report.table(
                f"{run['backend']}: gunicorn resident memory (master + workers), load average",
                ["second", "MiB", "load 1 min"],
                [[m["second"], m["total_mib"], m.get("load_1min")] for m in memory],
            )
        )
        print()
        print(memory_by_process(run["backend"], memory, run.get("master_pid")))
        ringing = run["events"]["call.ringing"]["latency_ms"]
        print(
            f"{run['backend']}: ringing p50 {ringing['p50']} ms, p99 {ringing['p99']} ms; webhook "
            f"p99 {run['webhook_latency_ms']['p99']} ms; statuses {run['webhook_statuses']}; "
            f"refused {len(run['refused'])}, cut {run['disconnected']}, "
            f"server errors {len(run['server_errors'])}"
        )
        for failure, count in run["unrecorded"].items():
            print(f"  logged {count} x {failure}")


DELIVERY_COLUMNS = [
    "events_written",
    "expected",
    "received",
    "lost",
    "duplicated",
    "screens_missing_some",
]


def memory_by_process(backend: str, memory: list[dict[str, Any]], master: int | None) -> str:
    """Each process's resident memory at the start, middle and end of the run."""
    picked = [memory[0], memory[len(memory) // 2], memory[-1]]
    pids = sorted({int(pid) for sample in picked for pid in sample["rss_kib"]})
    rows = []
    for pid in pids:
        cells = [sample["rss_kib"].get(pid, sample["rss_kib"].get(str(pid))) for sample in picked]
        role = "master" if pid == master else "worker"
        rows.append([f"{role} {pid}", *(round(kib / 1024, 1) if kib else "-" for kib in cells)])
    header = ["process", *(f"MiB at {sample['second']:g} s" for sample in picked)]
    return report.table(f"{backend}: resident memory per process", header, rows)


if __name__ == "__main__":
    main()
