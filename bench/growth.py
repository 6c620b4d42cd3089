"""Does a bigger directory slow calls down? Lookup and the whole webhook, small vs large dataset.

    .venv/bin/python -m bench.growth [--large-customers 10000 --large-calls 50000]
    .venv/bin/python -m bench.growth --large-customers 1000000 --large-calls 5000000 --backend both

``directory.find_by_number`` is timed in process (warm, random known numbers); the whole voice
webhook in process (WSGI, no network) and over HTTP at a steady rate. The large/small ratio is the
figure (target: at most 1.5 x from 1k to 1M customers).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from . import load, report, twilio
from .dataset import Size, known_numbers
from .server import AUTH_TOKEN, DESK, Server, app_env
from .webhook import callers_for, serve_wsgi, wsgi_environs
from .workspace import Workspace, add_common_arguments, chosen_backends


def lookup_us(url: str, count: int) -> dict[str, Any]:
    """CPU microseconds per ``find_by_number`` (a new session per 100 look-ups, as requests
    would); CPU time, so other work on the machine does not inflate it."""
    from sqlalchemy.orm import sessionmaker

    from callerid import directory
    from callerid.db import make_engine

    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    numbers = known_numbers(url, count, seed=23)
    timings: list[float] = []
    try:
        for _round in range(2):  # the first round warms caches and is thrown away
            timings = []
            for start in range(0, len(numbers), 100):
                with sessions() as session:
                    for number in numbers[start : start + 100]:
                        began = time.thread_time()
                        directory.find_by_number(session, number)
                        timings.append((time.thread_time() - began) * 1e6)
    finally:
        engine.dispose()
    return report.latency_summary(timings)


def webhook_us(url: str, workspace: Workspace, name: str, count: int) -> float:
    """Microseconds per full voice webhook through the WSGI app in this process."""
    from callerid import create_app, db

    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(workspace.instance(name)),
            "SECRET_KEY": "bench-secret",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "CALLERID_FORWARD_TO": DESK,
        }
    )
    host = "127.0.0.1:8000"
    callers = callers_for(url)
    serve_wsgi(app, wsgi_environs(twilio.voice_calls(host, callers, min(300, count)), host))
    best = []
    for _ in range(3):
        seconds, _statuses = serve_wsgi(
            app, wsgi_environs(twilio.voice_calls(host, callers, count), host)
        )
        best.append(seconds / count * 1e6)
    db.engine_for(app).dispose()
    return min(best)


def webhook_http(url: str, workspace: Workspace, name: str, rate: float, seconds: float) -> dict:
    instance = workspace.instance(name)
    callers = callers_for(url)
    with Server(app_env(url, instance), instance / "gunicorn.log") as server:
        host = f"{server.host}:{server.port}"
        warm = twilio.voice_calls(host, callers, int(1500 * min(2.0, seconds)))
        load.warm_up(server.host, server.port, warm, min(2.0, seconds))
        paced = twilio.voice_calls(host, callers, int(rate * seconds))
        outcome = load.open_loop(server.host, server.port, paced, rate)
    return report.latency_summary(outcome.latencies_ms)


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    sizes = {
        "small": Size(args.customers, args.calls),
        "large": Size(args.large_customers, args.large_calls),
    }
    found: dict[str, Any] = {"backend": backend}
    for label, size in sizes.items():
        url = workspace.copy(backend, size, f"growth-{label}-{backend}")
        found[label] = {
            "size": size.__dict__,
            "lookup_us": lookup_us(url, args.lookups),
            "webhook_us": round(webhook_us(url, workspace, f"growth-{label}", args.requests), 1),
            "webhook_http_ms": webhook_http(
                url, workspace, f"growth-{label}", args.rate, args.seconds
            ),
        }
    small, large = found["small"], found["large"]
    found["ratios"] = {
        "lookup_p50": _ratio(large["lookup_us"]["p50"], small["lookup_us"]["p50"]),
        "webhook_in_process": _ratio(large["webhook_us"], small["webhook_us"]),
        "webhook_http_p50": _ratio(
            large["webhook_http_ms"]["p50"], small["webhook_http_ms"]["p50"]
        ),
        "webhook_http_p99": _ratio(
            large["webhook_http_ms"]["p99"], small["webhook_http_ms"]["p99"]
        ),
    }
    return found


def _ratio(large: float | None, small: float | None) -> float | None:
    return round(large / small, 2) if large and small else None


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--large-customers", type=int, default=10_000)
    parser.add_argument("--large-calls", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=500, help="in-process webhooks per round")
    parser.add_argument("--rate", type=float, default=50.0, help="HTTP webhooks per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="of HTTP webhooks")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = []
    for run in results["runs"]:
        for label in ("small", "large"):
            part = run[label]
            rows.append(
                [
                    f"{run['backend']} {part['size']['customers']:,} customers",
                    part["lookup_us"]["p50"],
                    part["lookup_us"]["p99"],
                    part["webhook_us"],
                    part["webhook_http_ms"]["p50"],
                    part["webhook_http_ms"]["p99"],
                ]
            )
        ratios = run["ratios"]
        rows.append(
            [
                f"{run['backend']} large/small",
                ratios["lookup_p50"],
                None,
                ratios["webhook_in_process"],
                ratios["webhook_http_p50"],
                ratios["webhook_http_p99"],
            ]
        )
    print(
        report.table(
            "growth: lookup (CPU us, in process), webhook (CPU us in process; ms over HTTP, "
            f"open loop {args.rate:g}/s)",
            ["run", "lookup p50", "lookup p99", "webhook us", "HTTP p50", "HTTP p99"],
            rows,
        )
    )
    report.save("growth", results)
    return results


if __name__ == "__main__":
    main()
