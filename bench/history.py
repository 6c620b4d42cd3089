"""History over a large call log, over HTTP with a manager's bearer token.

    .venv/bin/python -m bench.history [--customers 1000 --calls 5000]
    .venv/bin/python -m bench.history --customers 1000000 --calls 5000000 --backend both

The call log's first page and page 1,000 (keyset cursor, 50 calls a page; reached by walking the
cursors the API hands out), one customer's calls and their card with its timeline, the missed
calls to return, and the insights for the default 30 days and for a year (target: each < 200 ms
on 5M calls; the year must answer well within gunicorn's timeout). The dataset is first brought
up to the current schema and insights' rollup filled, once (timed, reported as ``prepared``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

from . import report, sse
from .dataset import Size, catch_up, roll_up
from .server import Server, app_env
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

PAGE = 50
TARGET_PAGE = 1000


class Client:
    """Sequential keep-alive HTTP requests with a bearer token."""

    def __init__(self, server: Server, token: str) -> None:
        self.address = (server.host, server.port)
        self.connection = http.client.HTTPConnection(*self.address, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> tuple[int, Any, float]:
        """(status, JSON body, milliseconds); status 0 when the server dropped the request
        (e.g. gunicorn killed a worker stuck past its timeout)."""
        began = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(*self.address, timeout=60)
            return 0, None, (time.perf_counter() - began) * 1000
        elapsed = (time.perf_counter() - began) * 1000
        try:
            found = json.loads(body) if body else None
        except ValueError:
            found = None
        return response.status, found, elapsed

    def close(self) -> None:
        self.connection.close()


def page_cursor(client: Client, page: int) -> str | None:
    """The cursor that opens call log page ``page`` (50 a page), found by walking the API."""
    cursor, position = None, 0
    wanted = (page - 1) * PAGE
    while position < wanted:
        step = 500 if wanted - position >= 500 else PAGE
        query = {"limit": step, **({"cursor": cursor} if cursor else {})}
        status, body, _ms = client.get(f"/api/calls?{urlencode(query)}")
        if status != 200 or not body.get("next_cursor"):
            return cursor
        cursor, position = body["next_cursor"], position + step
    return cursor


def busiest_customer(url: str) -> tuple[int, int]:
    """Customer 1 is the dataset's most frequent caller (see bench.dataset); with their count."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                text("SELECT count(*) FROM calls WHERE customer_id = 1")
            ).scalar()
    finally:
        engine.dispose()
    return 1, int(count or 0)


def timed(client: Client, path: str, repeat: int) -> dict[str, Any]:
    statuses, millis = set(), []
    for attempt in range(repeat + 2):
        status, _body, elapsed = client.get(path)
        statuses.add(status)
        if attempt >= 2:  # two warm-ups
            millis.append(elapsed)
        if status == 0 or elapsed > 20_000:
            # One answer this slow (or a killed worker) is the finding; do not repeat it.
            millis = millis or [elapsed]
            break
    return {"path": path, "statuses": sorted(statuses), **report.latency_summary(millis)}


def prepare(workspace: Workspace, backend: str, size: Size) -> dict[str, Any]:
    """Once per dataset: add what the schema gained since it was built, and fill insights'
    rollup of every settled day (what a server running all along would have, see
    ``callerid.history.rollup``). Each run's copy starts from there."""
    workspace.build(backend, size)
    marker = workspace.root / "datasets" / f"{backend}-{size.name}.history.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if backend == "sqlite":
        url = f"sqlite:///{workspace._sqlite_file(size)}"
    else:
        url = workspace.cluster().url_for(f"ds_{size.name}")
    started = time.perf_counter()
    added = catch_up(url)
    done = {
        "schema_added": added,
        "schema_seconds": round(time.perf_counter() - started, 1),
        "rollup_seconds": round(roll_up(url), 1),
    }
    marker.write_text(json.dumps(done))
    return done


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    size = Size(args.customers, args.calls)
    prepared = prepare(workspace, backend, size)
    url = workspace.copy(backend, size, f"history-{backend}")
    catch_up(url)  # a schema change since the dataset was prepared
    token = sse.token(url, "manager")
    customer_id, customer_calls = busiest_customer(url)
    instance = workspace.instance(f"history-{backend}")
    found: dict[str, Any] = {
        "backend": backend,
        "customer_calls": customer_calls,
        "prepared": prepared,
    }
    with Server(app_env(url, instance), instance / "gunicorn.log") as server:
        client = Client(server, token)
        try:
            page = min(TARGET_PAGE, max(1, args.calls // PAGE))
            walk_started = time.perf_counter()
            cursor = page_cursor(client, page)
            found["page_walk_seconds"] = round(time.perf_counter() - walk_started, 2)
            found["deep_page"] = page
            year_ago = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
            paths = {
                "call log, first page": "/api/calls",
                f"call log, page {page:,}": "/api/calls?" + urlencode({"cursor": cursor or ""}),
                "customer's calls (first page)": f"/api/calls?customer_id={customer_id}",
                "customer card with timeline": f"/api/customers/{customer_id}",
                "missed calls to call back": "/api/missed",
                "insights, last 30 days": "/api/insights",
                "insights, last 365 days": f"/api/insights?since={year_ago}",
            }
            found["endpoints"] = {
                name: timed(client, path, args.repeat) for name, path in paths.items()
            }
        finally:
            client.close()
        found["server_errors"] = server.errors()[:20]
    return found


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per endpoint")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = []
    for run in results["runs"]:
        for name, found in run["endpoints"].items():
            status = ",".join(str(s) for s in found["statuses"])
            rows.append(
                [f"{run['backend']}: {name}", status, found["p50"], found["p95"], found["max"]]
            )
    print(
        report.table(
            f"history over HTTP, {args.customers:,} customers, {args.calls:,} calls (ms, warm, "
            f"{args.repeat} requests each)",
            ["request", "status", "p50", "p95", "max"],
            rows,
        )
    )
    for run in results["runs"]:
        prepared = run["prepared"]
        print(
            f"{run['backend']}: dataset prepared once: schema {prepared['schema_seconds']} s "
            f"({', '.join(prepared['schema_added']) or 'nothing to add'}), insights rollup "
            f"{prepared['rollup_seconds']} s"
        )
    report.save("history", results)
    return results


if __name__ == "__main__":
    main()
