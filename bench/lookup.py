"""A phone system's caller look-up (``GET /api/phone/lookup``), one request at a time, as a PBX
asks once per incoming call, on a quiet machine.

    .venv/bin/python -m bench.lookup [--customers 1000 --calls 5000] [--requests 500]
    .venv/bin/python -m bench.lookup --customers 1000000 --calls 5000000 --backend both

Known callers (numbers of the dataset's customers) and unknown ones, in the JSON and the text
format, over keep-alive HTTP with a ``phone`` token. Target: p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

from . import report, sse
from .dataset import Size, catch_up
from .history import Client
from .server import Server, app_env
from .workspace import Workspace, add_common_arguments, run_each_backend

TARGET_P99_MS = 100.0


def known_numbers(url: str, count: int, seed: int = 7) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = [
                row[0]
                for row in connection.execute(
                    text("SELECT number FROM phone_numbers ORDER BY id LIMIT :n"),
                    {"n": count * 10},
                )
            ]
    finally:
        engine.dispose()
    random.Random(seed).shuffle(found)
    return found[:count]


def timed(client: Client, numbers_: list[str], format_: str) -> dict[str, Any]:
    statuses, millis = set(), []
    for number in numbers_:
        query = urlencode({"number": number, **({"format": "text"} if format_ == "text" else {})})
        status, _body, elapsed = client.get(f"/api/phone/lookup?{query}")
        statuses.add(status)
        millis.append(elapsed)
    return {"statuses": sorted(statuses), **report.latency_summary(millis)}


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    workspace.build(backend, size)
    url = workspace.copy(backend, size, f"lookup-{backend}")
    catch_up(url)  # the dataset may predate phone tokens
    token = sse.token(url, "staff", kind="phone", name="bench-pbx")
    known = known_numbers(url, args.requests)
    unknown = [f"+1415555{n:04d}" for n in range(args.requests)]
    instance = workspace.instance(f"lookup-{backend}")
    # A budget far above the run's requests: this measures the look-up, not the throttle.
    env = app_env(url, instance, CALLERID_PHONE_LOOKUPS_PER_MINUTE="1000000")
    found: dict[str, Any] = {"backend": backend, "requests": args.requests}
    with Server(env, instance / "gunicorn.log") as server:
        client = Client(server, token)
        try:
            timed(client, known[: min(50, len(known))], "json")  # warm-up
            found["cases"] = {
                "known, json": timed(client, known, "json"),
                "known, text": timed(client, known, "text"),
                "unknown, json": timed(client, unknown, "json"),
            }
        finally:
            client.close()
        found["server_errors"] = server.errors()[:20]
    return found


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--requests", type=int, default=500, help="look-ups per case")
    args = parser.parse_args(argv)
    results = run_each_backend(args, run_backend)
    rows = [
        [
            f"{run['backend']}: {name}",
            ",".join(map(str, case["statuses"])),
            case["p50"],
            case["p99"],
            case["max"],
        ]
        for run in results["runs"]
        for name, case in run["cases"].items()
    ]
    print(
        report.table(
            f"phone look-ups, {args.customers:,} customers, {args.requests} sequential requests "
            f"per case (ms; target p99 < {TARGET_P99_MS:.0f})",
            ["case", "status", "p50", "p99", "max"],
            rows,
        )
    )
    report.save("lookup", results)
    return results


if __name__ == "__main__":
    main()
