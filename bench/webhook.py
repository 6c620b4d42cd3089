"""The voice webhook: throughput against a bare Flask endpoint, latency at a steady rate, profile.

    .venv/bin/python -m bench.webhook [--customers 1000 --calls 5000] [--backend both]
    .venv/bin/python -m bench.webhook --customers 1000000 --calls 5000000 --latency-seconds 60
    .venv/bin/python -m bench.webhook --profile [--requests 3000]

Throughput: the full signed ``/twilio/voice`` path (a new CallSid each request, so each inserts a
call and an event; 80 % of callers are customers of the dataset) and ``bench.bare:app`` (constant
TwiML) run under the same gunicorn config, in alternating rounds of the same run; the ratio is
taken per round and its median reported (target: full >= 0.5 x bare). Latency: an open loop at
``--rate`` calls per second (target p99 < 25 ms at 1M customers / 5M calls). Warm runs follow a
warm-up; ``--cold`` adds a run on a copy pushed out of the page cache, reported apart.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import create_engine, text

from . import load, report, twilio
from .dataset import Size, known_numbers, stranger_numbers
from .server import AUTH_TOKEN, BARE_APP, DESK, Server, app_env
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

KNOWN_SHARE = 0.8


def callers_for(url: str, count: int = 4000) -> list[str]:
    """Caller numbers for a run: mostly the dataset's customers, some strangers."""
    known = known_numbers(url, int(count * KNOWN_SHARE))
    strangers = stranger_numbers(count - len(known))
    return twilio.mixed_callers(known, strangers, KNOWN_SHARE)


def count_rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
                for table in ("calls", "events")
            }
    finally:
        engine.dispose()


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"webhook-{backend}")
    callers = callers_for(url)
    instance = workspace.instance(f"webhook-{backend}")
    env = app_env(url, instance)
    result: dict[str, Any] = {"backend": backend, "rounds": []}
    bare = Server(env, instance / "bare.log", app=BARE_APP, workers=args.workers)
    full = Server(env, instance / "full.log", workers=args.workers)
    with bare, full:
        for server in (bare, full):
            host = f"{server.host}:{server.port}"
            warm = twilio.voice_calls(host, callers, int(args.warmup * 1500))
            load.warm_up(server.host, server.port, warm, args.warmup)
        before = count_rows(url)
        for _ in range(args.rounds):
            figures = {}
            for name, server in (("bare", bare), ("full", full)):
                host = f"{server.host}:{server.port}"
                wanted = int(args.max_rate * args.seconds)
                if args.whole_call:  # seven requests a call; the rate counts requests
                    signed = twilio.whole_calls(host, callers, wanted // 7 + 1)
                else:
                    signed = twilio.voice_calls(host, callers, wanted)
                cpu = server.cpu_seconds()
                outcome = load.closed_loop(
                    server.host, server.port, signed, args.seconds, args.connections, args.generator
                )
                outcome.cpu_us = (server.cpu_seconds() - cpu) / max(1, outcome.requests) * 1e6
                figures[name] = outcome
            result["rounds"].append(
                {
                    "bare_rps": round(figures["bare"].rate, 1),
                    "full_rps": round(figures["full"].rate, 1),
                    "ratio": round(figures["full"].rate / figures["bare"].rate, 3),
                    "bare_cpu_us": round(figures["bare"].cpu_us),
                    "full_cpu_us": round(figures["full"].cpu_us),
                    "cpu_ratio": round(figures["bare"].cpu_us / figures["full"].cpu_us, 3),
                    "generator": figures["full"].generator,
                    "full_statuses": figures["full"].statuses,
                    "full_errors": figures["full"].errors,
                    "full_repeats": figures["full"].repeats,
                    "full_latency_ms": figures["full"].wrk_latency_ms,
                }
            )
        after = count_rows(url)
        host = f"{full.host}:{full.port}"
        paced = twilio.voice_calls(host, callers, int(args.rate * args.latency_seconds))
        latency = load.open_loop(full.host, full.port, paced, args.rate)
        result["latency"] = {
            "rate": args.rate,
            "seconds": args.latency_seconds,
            "statuses": latency.statuses,
            "errors": latency.errors,
            **report.latency_summary(latency.latencies_ms),
        }
        final = count_rows(url)
        sent = sum(r["full_statuses"].get(200, 0) for r in result["rounds"])
        result["recorded"] = {
            "throughput_requests_answered": sent,
            "throughput_calls_recorded": after["calls"] - before["calls"],
            "throughput_events_recorded": after["events"] - before["events"],
            "latency_requests": latency.requests,
            "latency_calls_recorded": final["calls"] - after["calls"],
        }
        result["server_errors"] = full.errors()[:20]
        result["unrecorded_logged"] = unrecorded(full.log())
        result["rss_kib"] = full.rss_kib()
    if args.cold:
        result["cold"] = cold_run(args, workspace, backend, size, callers)
    ratios = [r["ratio"] for r in result["rounds"]]
    result["median"] = {
        "bare_rps": statistics.median(r["bare_rps"] for r in result["rounds"]),
        "full_rps": statistics.median(r["full_rps"] for r in result["rounds"]),
        "ratio": statistics.median(ratios),
        "bare_cpu_us": statistics.median(r["bare_cpu_us"] for r in result["rounds"]),
        "full_cpu_us": statistics.median(r["full_cpu_us"] for r in result["rounds"]),
        "cpu_ratio": statistics.median(r["cpu_ratio"] for r in result["rounds"]),
    }
    return result


def unrecorded(log: str) -> int:
    """Webhooks the server logged as unrecorded: one line each, or one line standing for several
    ("... (and 9 more like it)") when overload is logged at most once a second."""
    total = 0
    for line in log.splitlines():
        if "unrecorded" in line:
            more = re.search(r"\(and (\d+) more like it\)", line)
            total += 1 + (int(more.group(1)) if more else 0)
    return total


def cold_run(
    args: argparse.Namespace, workspace: Workspace, backend: str, size: Size, callers: list[str]
) -> dict[str, Any]:
    """The open loop on a copy just pushed out of the page cache, with no warm-up at all."""
    url = workspace.copy(backend, size, f"webhook-cold-{backend}", cold=True)
    instance = workspace.instance(f"webhook-cold-{backend}")
    with Server(app_env(url, instance), instance / "full.log", workers=args.workers) as full:
        host = f"{full.host}:{full.port}"
        paced = twilio.voice_calls(host, callers, int(args.rate * args.latency_seconds))
        latency = load.open_loop(full.host, full.port, paced, args.rate)
    return {
        "rate": args.rate,
        "seconds": args.latency_seconds,
        "statuses": latency.statuses,
        "errors": latency.errors,
        **report.latency_summary(latency.latencies_ms),
    }


# In-process profile ---------------------------------------------------------------------------
class Phases:
    """Exclusive CPU time per named function: a child's time is taken off its parent's. CPU
    time (not wall time) so that other processes on the machine do not inflate the figures."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)
        phases = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            phases._stack.append(0.0)
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.thread_time() - started
                children = phases._stack.pop()
                phases.totals[name] += elapsed - children
                phases.calls[name] += 1
                if phases._stack:
                    phases._stack[-1] += elapsed

        setattr(owner, attribute, timed)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


def wsgi_environs(signed: Sequence[twilio.Signed], host: str) -> list[dict[str, Any]]:
    """WSGI environs for these signed requests, built ahead so no clock counts their making."""
    from werkzeug.test import EnvironBuilder

    environs = []
    for request in signed:
        builder = EnvironBuilder(
            path=request.path,
            method="POST",
            base_url=f"http://{host}",
            data=request.body,
            content_type="application/x-www-form-urlencoded",
            headers=[("X-Twilio-Signature", request.signature)],
        )
        environs.append(builder.get_environ())
        builder.close()
    return environs


def serve_wsgi(app: Any, environs: Sequence[dict[str, Any]]) -> tuple[float, dict[int, int]]:
    """Call the WSGI ``app`` once per environ; return the CPU seconds it took and the statuses."""
    statuses: dict[int, int] = defaultdict(int)

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses[int(status[:3])] += 1

    started = time.thread_time()
    for environ in environs:
        body = app(environ, start_response)
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()
    return time.thread_time() - started, dict(statuses)


def profile(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    """Run the full path in this process through the WSGI app and say where its time goes."""
    import sqlalchemy.engine
    import werkzeug.wrappers.request

    from callerid import create_app, db, directory, numbers, ringing
    from callerid.events import store
    from callerid.telephony import groupcommit, signature, twiml

    from . import bare

    size = Size(args.customers, args.calls)
    url = workspace.copy(backend, size, f"profile-{backend}")
    callers = callers_for(url)
    instance = workspace.instance(f"profile-{backend}")
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-secret",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "CALLERID_FORWARD_TO": DESK,
        }
    )
    host = "127.0.0.1:8000"
    count = args.requests
    warm = wsgi_environs(twilio.voice_calls(host, callers, min(count, 1000)), host)
    timed = wsgi_environs(twilio.voice_calls(host, callers, count), host)
    profiled = wsgi_environs(twilio.voice_calls(host, callers, count), host)
    bare_environs = wsgi_environs(twilio.voice_calls(host, callers, count), host)
    serve_wsgi(app, warm)
    serve_wsgi(bare.app, bare_environs[: min(count, 500)])
    bare_seconds, _ = serve_wsgi(bare.app, bare_environs)
    plain_seconds, plain_statuses = serve_wsgi(app, timed[: count // 2])

    phases = Phases()
    phases.wrap(werkzeug.wrappers.request.Request, "_load_form_data", "form parsing")
    phases.wrap(signature, "is_valid", "signature check (validator)")
    phases.wrap(numbers, "normalise", "E.164 normalise")
    phases.wrap(groupcommit.GroupCommit, "submit", "group commit (one webhook at a time here)")
    phases.wrap(directory, "owners_of_many", "directory lookup (owners_of_many)")
    phases.wrap(directory, "lines_of", "line lookup (lines_of)")
    phases.wrap(ringing, "record", "call row (INSERT ... ON CONFLICT), the rest of record")
    phases.wrap(directory, "cards_for_calls", "card for the event")
    phases.wrap(store, "append_many", "event append (JSON + insert)")
    phases.wrap(db, "bound", "db.bound (timeouts)")
    phases.wrap(sqlalchemy.engine.Transaction, "commit", "commit")
    phases.wrap(sqlalchemy.engine.Engine, "connect", "connection checkout (pool)")
    phases.wrap(twiml, "dial", "TwiML (VoiceResponse)")
    try:
        phased_seconds, _ = serve_wsgi(app, timed[count // 2 :])
    finally:
        phases.restore()
    phased_count = count - count // 2
    per_request = {name: total / phased_count * 1e6 for name, total in phases.totals.items()}
    total_us = phased_seconds / phased_count * 1e6
    per_request["Flask, Werkzeug, the rest"] = total_us - sum(per_request.values())

    profiler = cProfile.Profile()
    profiler.enable()
    serve_wsgi(app, profiled)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    engine = db.engine_for(app)
    engine.dispose()
    return {
        "backend": backend,
        "requests": count,
        "statuses": plain_statuses,
        "full_us": round(plain_seconds / (count // 2) * 1e6, 1),
        "full_us_with_timers": round(total_us, 1),
        "bare_us": round(bare_seconds / count * 1e6, 1),
        "phases_us": {name: round(value, 1) for name, value in per_request.items()},
        "cprofile": stream.getvalue(),
    }


def print_profile(found: dict[str, Any]) -> None:
    rows = sorted(found["phases_us"].items(), key=lambda item: -item[1])
    total = found["full_us_with_timers"]
    print(
        report.table(
            f"webhook profile, in process, CPU time ({found['backend']}, {found['requests']} "
            f"requests; full {found['full_us']} us/request, bare Flask {found['bare_us']} us)",
            ["phase (exclusive)", "us/request", "share"],
            [[name, value, f"{value / total:.0%}"] for name, value in rows],
        )
    )
    print("\ncProfile (same path, profiler overhead included):")
    print(found["cprofile"])


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--seconds", type=float, default=3.0, help="per closed-loop round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/full rounds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="closed-loop load generator (auto: wrk if installed)",
    )
    parser.add_argument("--max-rate", type=float, default=4000, help="pre-signed per second")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up traffic")
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop calls per second")
    parser.add_argument(
        "--whole-call",
        action="store_true",
        help="throughput of whole calls (voice webhook and its six callbacks), not voice alone",
    )
    parser.add_argument("--latency-seconds", type=float, default=5.0)
    parser.add_argument("--cold", action="store_true", help="also a run with cold caches")
    parser.add_argument("--profile", action="store_true", help="profile in process instead")
    parser.add_argument("--requests", type=int, default=2000, help="requests to profile")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"size": describe(args), "runs": [], "generator_note": ""}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            if args.profile:
                found = profile(args, workspace, backend)
                print_profile(found)
                results["runs"].append(found)
                continue
            results["runs"].append(run_backend(args, workspace, backend))
    if args.profile:
        report.save("webhook-profile", results)
        return results
    print_results(results, args)
    report.save("webhook", results)
    return results


def print_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    rows = []
    for run in results["runs"]:
        for number, found in enumerate(run["rounds"], 1):
            rows.append(
                [
                    f"{run['backend']} round {number}",
                    found["bare_rps"],
                    found["full_rps"],
                    found["ratio"],
                    found["bare_cpu_us"],
                    found["full_cpu_us"],
                    found["cpu_ratio"],
                ]
            )
        rows.append([f"{run['backend']} median", *run["median"].values()])
    generator = results["runs"][0]["rounds"][0]["generator"] if results["runs"] else "-"
    print(
        report.table(
            f"webhook throughput, closed loop, {args.connections} connections, {args.seconds:g} s "
            f"rounds; {args.customers:,} customers, {args.calls:,} calls; generator: {generator} "
            "on the same 2 cores as the server",
            [
                "run",
                "bare req/s",
                "full req/s",
                "full/bare",
                "bare CPU us",
                "full CPU us",
                "CPU ratio",
            ],
            rows,
        )
    )
    rows = []
    for run in results["runs"]:
        for label, found in (("warm", run["latency"]), ("cold", run.get("cold"))):
            if found:
                rows.append(
                    [
                        f"{run['backend']} {label}",
                        found["count"],
                        found["p50"],
                        found["p95"],
                        found["p99"],
                        found["max"],
                        found["errors"] + sum(v for k, v in found["statuses"].items() if k != 200),
                    ]
                )
    print()
    print(
        report.table(
            f"webhook latency, open loop at {args.rate:g} calls/s for {args.latency_seconds:g} s "
            "(ms, from the scheduled send to the last byte of TwiML)",
            ["run", "requests", "p50", "p95", "p99", "max", "failed"],
            rows,
        )
    )
    for run in results["runs"]:
        recorded = run["recorded"]
        print(
            f"{run['backend']}: {recorded['throughput_requests_answered']:,} answered, "
            f"{recorded['throughput_calls_recorded']:,} calls and "
            f"{recorded['throughput_events_recorded']:,} events recorded; "
            f"server errors logged: {len(run['server_errors'])}; "
            f"webhooks logged as unrecorded: {run['unrecorded_logged']:,}"
        )


if __name__ == "__main__":
    main()
