"""Burst: N calls at once, each as Twilio sends a whole call, with screens open; optionally a
database outage in the middle.

    .venv/bin/python -m bench.burst [--calls 200] [--backend sqlite|postgresql|both]
                                    [--outage SECONDS] [--runs N]

PostgreSQL runs the documented deployment (docs/deployment.md): two gunicorn instances with our
config (2 gevent workers each) on one database, behind a "balancer" (every request signed for
the one public URL and sent to either instance); SQLite runs one instance. Each call: its voice
webhook (a share retried, on the other instance when there are two), then its six callbacks in
shuffled order, some twice, each re-sent while unacknowledged for at most 15 s (callflow.py).
``--outage S`` crashes PostgreSQL (``pg_ctl stop -m immediate``) or holds SQLite's write lock
from another process for S seconds, starting ``--outage-at`` seconds into the burst.

Reports: calls not recorded by their own webhook (from /metrics), callbacks acknowledged but not
applied and calls missing from the log (the database against what the callbacks said), events
lost / duplicated / out of order on the screens (against the events table), webhook and
screen-pop p50/p99, the spool's deepest point and what went through it, each worker's memory
before and at its peak, and the CPU share of this load generator (one asyncio process, on the
same cores as the servers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import callflow, ledger, load, metrics, outage, report, sse, twilio
from .dataset import Size
from .server import Server, app_env, memory_kib, raise_open_files
from .soak import latest_event_id
from .webhook import callers_for
from .workspace import BACKENDS, Workspace, chosen_backends

# As docs/deployment.md runs them: two instances on PostgreSQL, one on SQLite.
INSTANCES = {"postgresql": 2, "sqlite": 1}
DRAIN_LIMIT = 180.0  # seconds to wait for the spools to empty after the burst
SETTLE_LIMIT = 60.0  # and then for the last events to be written and reach the screens
# Seconds without a new event after which writing is over: every request was answered by then,
# so this only waits out a webhook the generator stopped waiting for.
QUIET = 1.0


@dataclass
class Site:
    """What the burst runs against: the servers, their instance folders, the database."""

    backend: str
    url: str
    servers: list[Server]
    instances: list[Path]
    screen_token: str
    metrics_token: str
    workspace: Workspace

    @property
    def targets(self) -> list[tuple[str, int]]:
        return [(server.host, server.port) for server in self.servers]


@dataclass
class SpoolWatch:
    """Samples every instance's spool depth (from /metrics; from its files when /metrics does
    not answer, as during an outage) until stopped."""

    site: Site
    deepest: int = 0
    samples: list[tuple[float, int]] = field(default_factory=list)
    scrapes_failed: int = 0

    async def depth(self) -> int:
        total = 0
        for target, instance in zip(self.site.targets, self.site.instances, strict=True):
            text = await metrics.scrape(target, self.site.metrics_token)
            value = metrics.spool_depth(text) if text is not None else None
            if value is None:
                self.scrapes_failed += 1
                value = metrics.spool_depth_on_disk(instance)
            total += int(value)
        self.deepest = max(self.deepest, total)
        self.samples.append((time.perf_counter(), total))
        return total

    async def watch(self, every: float = 0.5) -> None:
        while True:
            await self.depth()
            await asyncio.sleep(every)

    async def drained(self, limit: float) -> float | None:
        """Seconds until every spool was empty, or None when they were not within ``limit``."""
        started = time.perf_counter()
        while time.perf_counter() - started < limit:
            if await self.depth() == 0:
                return time.perf_counter() - started
            await asyncio.sleep(0.5)
        return None


async def _scrape_outcomes(site: Site, patience: float = 30.0) -> list[metrics.Outcomes]:
    """Every instance's webhook counts; a scrape is tried again for a while, since right after
    an outage the first requests may still meet a dead pooled connection."""
    found = []
    for target in site.targets:
        deadline = time.perf_counter() + patience
        while (text := await metrics.scrape(target, site.metrics_token, timeout=10.0)) is None:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"/metrics on {target} did not answer 200")
            await asyncio.sleep(0.5)
        found.append(metrics.outcomes(text))
    return found


def _worker_memory(site: Site) -> dict[str, dict[str, int]]:
    return {
        f"{n}:{pid}": memory_kib(pid)
        for n, server in enumerate(site.servers)
        for pid in server.worker_pids()
    }


def _outage(site: Site, seconds: float, window: outage.Window) -> Any:
    if site.backend == "postgresql":
        return outage.postgres_down(site.workspace.cluster(), seconds, window)
    return outage.sqlite_locked(Path(site.url.removeprefix("sqlite:///")), seconds, window)


async def _delayed(delay: float, work: Any) -> None:
    await asyncio.sleep(delay)
    await work


async def _settle(
    site: Site, screens: list[sse.Screen], first_id: int, calls: set[str]
) -> list[ledger.Stored]:
    """Wait until no new event was written for the burst's calls for QUIET seconds and every
    screen holds every one written (at most SETTLE_LIMIT); return those written."""
    deadline = time.perf_counter() + SETTLE_LIMIT
    count, changed = -1, time.perf_counter()
    while True:
        stored = await asyncio.to_thread(ledger.stored_events, site.url, first_id, calls)
        now = time.perf_counter()
        if len(stored) != count:
            count, changed = len(stored), now
        if (now - changed >= QUIET and ledger.screens_hold(screens, stored)) or now > deadline:
            return stored
        await asyncio.sleep(0.5)


async def _burst(site: Site, callers: list[str], args: argparse.Namespace, seed: int) -> dict:
    screens, refused = await sse.open_screens(
        site.targets, site.screen_token, args.screens * len(site.servers), incremental=True
    )
    await asyncio.sleep(0.5)  # every follower has read the table up to now
    first_id = latest_event_id(site.url)
    before = await _scrape_outcomes(site)
    memory_before = _worker_memory(site)
    rng = random.Random(seed)
    plans = callflow.plans(
        callers,
        args.calls,
        len(site.servers),
        rng,
        retry_share=args.retry_share,
        repeat_share=args.repeat_share,
        pace=args.pace,
        spread=args.spread,
    )
    caller = callflow.Caller(site.targets, rng, overlap=args.overlap)
    spool = SpoolWatch(site)
    watcher = asyncio.create_task(spool.watch())
    window = outage.Window()
    down = (
        asyncio.create_task(_delayed(args.outage_at, _outage(site, args.outage, window)))
        if args.outage
        else None
    )
    workers_cpu = sum(server.cpu_seconds() for server in site.servers)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller.call(plan) for plan in plans))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    workers_cpu = sum(server.cpu_seconds() for server in site.servers) - workers_cpu
    if down is not None:
        await down
    watcher.cancel()
    drained = await spool.drained(DRAIN_LIMIT)
    calls = {plan.call_sid for plan in plans}
    stored = await _settle(site, screens, first_id, calls)
    after = await _scrape_outcomes(site)
    disconnected = sum(1 for screen in screens if screen.lost_at is not None)
    for screen in screens:
        screen.close()
    tally = caller.tally
    states = ledger.final_states(site.url, calls)
    seen = ledger.screens_figures(screens, stored, tally.sent)
    requests = metrics.difference(after, before)
    audit = ledger.log_figures(states, calls, set(tally.given_up))
    troubled = [*audit["not_applied_examples"], *audit["missing_examples"]]
    return {
        "calls": args.calls,
        "instances": len(site.servers),
        "screens": len(screens),
        "refused_screens": refused,
        "disconnected_screens": disconnected,
        "voice_retried": sum(1 for plan in plans if plan.retry_on is not None),
        "callbacks_sent": tally.callbacks,
        "callbacks_resent": tally.resent,
        "callbacks_given_up": sum(tally.given_up.values()),
        "voice_statuses": dict(tally.voice_statuses),
        "callback_statuses": dict(tally.callback_statuses),
        "no_twiml": tally.no_twiml,
        "burst_seconds": round(seconds, 2),
        "generator_cpu_share": round(cpu / seconds, 3) if seconds else None,
        "workers_cpu_seconds": round(workers_cpu, 2),
        "voice_ms": report.latency_summary(tally.voice_ms),
        "callback_ms": report.latency_summary(tally.callback_ms),
        "screen_pop_ms": report.latency_summary(seen.pop_ms),
        "requests": requests,
        "voice_unrecorded": _unrecorded(requests.get("/twilio/voice", {})),
        **audit,
        "troubled_calls_answers": {sid: tally.answers.get(sid) for sid in troubled},
        "events_written": len(stored),
        "not_written": ledger.written(stored, calls),
        "events_expected": seen.expected,
        "events_lost": seen.lost,
        "events_duplicated": seen.duplicated,
        "events_out_of_order": seen.out_of_order,
        "events_ids_back": seen.ids_back,
        "events_kinds_back": seen.kinds_back,
        "out_of_order_examples": seen.examples,
        "out_of_order_histories": ledger.histories(
            site.url, {event[2] for _, _, event in seen.examples}
        )
        if seen.examples
        else {},
        "calls_with_lost_events": len(seen.calls_with_loss),
        "spool_deepest": spool.deepest,
        "spooled": int(sum(r.get("spooled", 0) for r in requests.values())),
        "spool_drained_after_s": None if drained is None else round(drained, 2),
        "metrics_scrapes_failed": spool.scrapes_failed,
        "outage": {"asked_s": args.outage, "measured_s": round(window.seconds, 2)}
        if args.outage
        else None,
        "memory_kib": _memory(memory_before, _worker_memory(site)),
        "load_average": os.getloadavg(),
    }


def _unrecorded(voice: dict[str, float]) -> dict[str, int]:
    """Voice webhooks answered without their call committed first: spooled (recorded when the
    spool is applied) or failed open (recorded only if a later callback records it)."""
    return {
        "requests": int(sum(v for k, v in voice.items() if k != "retried")),
        "recorded": int(voice.get("recorded", 0)),
        "spooled": int(voice.get("spooled", 0)),
        "failed_open": int(voice.get("failed_open", 0)),
    }


def _memory(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, dict[str, int | None]]:
    """Per worker: resident memory before the burst, and its peak (VmHWM) after it."""
    return {
        worker: {
            "rss_before": found.get("rss"),
            "peak_before": found.get("hwm"),
            "peak_after": after.get(worker, {}).get("hwm"),
            "rss_after": after.get(worker, {}).get("rss"),
        }
        for worker, found in before.items()
    }


def _site(args: argparse.Namespace, workspace: Workspace, backend: str) -> Site:
    url = workspace.copy(backend, Size(args.customers, args.history), f"burst-{backend}")
    servers, instances = [], []
    for n in range(INSTANCES[backend]):
        instance = workspace.instance(f"burst-{backend}-{n}")
        shutil.rmtree(instance / "spool", ignore_errors=True)  # an earlier run's database's
        env = app_env(
            url,
            instance,
            CALLERID_PUBLIC_URL=f"http://{twilio.PUBLIC_HOST}",
            PROMETHEUS_MULTIPROC_DIR=str(instance / "metrics"),
            CALLERID_INSTANCES=str(INSTANCES[backend]),  # as callerid.env says
        )
        instances.append(instance)
        servers.append(Server(env, instance / "gunicorn.log"))
    return Site(backend, url, servers, instances, sse.token(url), metrics.token(url), workspace)


def run_once(
    args: argparse.Namespace, workspace: Workspace, backend: str, number: int
) -> dict[str, Any]:
    site = _site(args, workspace, backend)
    callers = callers_for(site.url, 1000)
    try:
        # Each start waits for its workers to boot (seconds): both instances boot at once.
        with ThreadPoolExecutor(len(site.servers)) as pool:
            list(pool.map(Server.start, site.servers))
        for server in site.servers if args.warmup > 0 else []:
            warm = twilio.voice_calls(twilio.PUBLIC_HOST, callers, 200)
            load.warm_up(server.host, server.port, warm, args.warmup)
        found = asyncio.run(_burst(site, callers, args, args.seed + number))
        found["server_errors"] = [line for s in site.servers for line in s.errors()][:20]
    finally:
        for server in site.servers:
            server.stop()
    return {"backend": backend, "run": number + 1, **found}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="calls arriving at once")
    parser.add_argument(
        "--backend",
        dest="backends",
        action="append",
        choices=[*BACKENDS, "both"],
        help="database to run on; repeat or say 'both' (default: both)",
    )
    parser.add_argument(
        "--spread", type=float, default=0.0, help="seconds over which calls start (0: at once)"
    )
    parser.add_argument("--outage", type=float, default=0.0, help="seconds the database is away")
    parser.add_argument("--outage-at", type=float, default=1.0, help="seconds into the burst")
    parser.add_argument("--runs", type=int, default=1, help="bursts per backend")
    parser.add_argument("--screens", type=int, default=3, help="/events streams per instance")
    parser.add_argument("--retry-share", type=float, default=0.2, help="voice webhooks retried")
    parser.add_argument("--repeat-share", type=float, default=0.1, help="callbacks sent twice")
    parser.add_argument(
        "--pace", type=float, default=0.3, help="seconds between a call's callbacks"
    )
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="send a call's callbacks on schedule, not each after the last one's answer",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per instance")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--customers", type=int, default=1000, help="dataset size")
    parser.add_argument("--history", type=int, default=5000, help="calls in the dataset's history")
    parser.add_argument("--workdir", type=Path, default=report.RESULTS / "work")
    parser.set_defaults(default_backends=BACKENDS)
    return parser


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    raise_open_files()
    results: dict[str, Any] = {
        "size": {"customers": args.customers, "calls": args.history},
        "burst": {
            k: getattr(args, k)
            for k in (
                "calls",
                "spread",
                "outage",
                "outage_at",
                "retry_share",
                "repeat_share",
                "pace",
                "overlap",
            )
        },
        "runs": [],
    }
    # A crash must not take commits already acknowledged with it (see bench/postgres.py).
    with Workspace(args.workdir, durable=args.outage > 0) as workspace:
        for backend in chosen_backends(args):
            for number in range(args.runs):
                results["runs"].append(run_once(args, workspace, backend, number))
    print_results(results, args)
    report.save("burst", results)
    return results


def print_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for run in results["runs"]:
        unrecorded = run["voice_unrecorded"]
        rows.append(
            [
                f"{run['backend']} x{run['instances']} #{run['run']}",
                run["calls"],
                unrecorded["spooled"] + unrecorded["failed_open"],
                run["calls_missing"],
                run["acknowledged_not_applied"],
                run["callbacks_given_up"],
                run["events_lost"],
                run["events_duplicated"],
                run["events_out_of_order"],
                run["voice_ms"]["p50"],
                run["voice_ms"]["p99"],
                run["screen_pop_ms"]["p50"],
                run["screen_pop_ms"]["p99"],
                run["spool_deepest"],
                run["spooled"],
                f"{run['generator_cpu_share']:.0%}" if run["generator_cpu_share"] else "-",
                _worst_growth_mib(run["memory_kib"]),
            ]
        )
    header = [
        "run", "calls", "unrecorded", "missing", "ack not applied", "given up", "lost", "dup",
        "order", "voice p50", "voice p99", "pop p50", "pop p99", "spool max", "spooled",
        "gen CPU", "RSS +MiB",
    ]  # fmt: skip
    when = f"within {args.spread:g} s" if args.spread else "at once"
    outage_note = f", {args.outage:g} s outage at {args.outage_at:g} s" if args.outage else ""
    print(report.table(f"burst: {args.calls} calls {when}{outage_note} (ms)", header, rows))
    for run in results["runs"]:
        print(
            f"{run['backend']} #{run['run']}: voice {run['voice_unrecorded']}; callbacks "
            f"{run['callbacks_sent']} sent, {run['callbacks_resent']} re-sent, answers "
            f"{run['callback_statuses']}; no card popped for {run['not_written']['no_ringing']} "
            f"calls; burst {run['burst_seconds']} s, spool drained after "
            f"{run['spool_drained_after_s']} s; outage {run['outage']}; load {run['load_average']}"
        )
        for worker, memory in run["memory_kib"].items():
            print(
                f"  worker {worker}: RSS before {_mib(memory['rss_before'])} MiB, peak after "
                f"{_mib(memory['peak_after'])} MiB (peak before {_mib(memory['peak_before'])})"
            )
        for line in run["server_errors"][:5]:
            print(f"  {run['backend']}: {line[:200]}")


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def _worst_growth_mib(memory: dict[str, dict[str, int | None]]) -> float | None:
    """The largest (peak after - resident before) over the workers, in MiB."""
    growths = [
        (m["peak_after"] - m["rss_before"]) / 1024
        for m in memory.values()
        if m["peak_after"] is not None and m["rss_before"] is not None
    ]
    return round(max(growths), 1) if growths else None


if __name__ == "__main__":
    main()
