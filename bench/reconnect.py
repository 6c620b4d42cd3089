"""Reconnect storm: every screen opens /events at the same moment, as after a deploy.

    .venv/bin/python -m bench.reconnect [--screens 300] [--storms 3] [--backend postgresql]

N screens (staff bearer token) connect all at once, without batching, to one gunicorn instance
(or ``--instances 2``); then all are cut and reconnect at once again, ``--storms`` times. Each
storm reports how many got their stream (200), were told to retry (503 with Retry-After, which
browsers honour) or failed otherwise (500: the bug this guards against), and how long the last
screen took to get ``stream.open``. Target: no 500 ever; every screen streaming within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from . import report, sse
from .dataset import Size
from .server import Server, app_env, raise_open_files
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

_STATUS = re.compile(r"HTTP/1\.[01] (\d{3})")


async def _storms(servers: list[Server], token: str, args: argparse.Namespace) -> list[dict]:
    targets = [(server.host, server.port) for server in servers]
    found = []
    for _storm in range(args.storms):
        started = time.perf_counter()
        screens, refused = await sse.open_screens(
            targets, token, args.screens, timeout=60, batch_size=args.screens
        )
        opened_ms = (time.perf_counter() - started) * 1000
        statuses: Counter[str] = Counter({"200": len(screens)})
        for answer in refused:
            match = _STATUS.search(answer)
            statuses[match.group(1) if match else "no answer"] += 1
        found.append(
            {
                "statuses": dict(statuses),
                "all_open_ms": round(opened_ms, 1),
                "refused_sample": refused[:3],
            }
        )
        for screen in screens:
            screen.close()
        await asyncio.sleep(1.0)
    return found


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    url = workspace.copy(backend, Size(args.customers, args.calls), f"reconnect-{backend}")
    token = sse.token(url, "staff")
    servers = []
    try:
        for number in range(args.instances):
            instance = workspace.instance(f"reconnect-{backend}-{number}")
            servers.append(Server(app_env(url, instance), instance / "gunicorn.log").start())
        storms = asyncio.run(_storms(servers, token, args))
        errors = [line for server in servers for line in server.errors()]
    finally:
        for server in servers:
            server.stop()
    return {
        "backend": backend,
        "instances": args.instances,
        "screens": args.screens,
        "storms": storms,
        "server_errors": errors[:20],
        "server_error_lines": len(errors),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.reconnect", description=__doc__)
    add_common_arguments(parser, backends=("postgresql",))
    parser.add_argument("--screens", type=int, default=300)
    parser.add_argument("--storms", type=int, default=3)
    parser.add_argument("--instances", type=int, default=1)
    args = parser.parse_args(argv)
    raise_open_files()
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = [
        [
            f"{run['backend']} x{run['instances']}",
            run["screens"],
            number + 1,
            storm["statuses"].get("200", 0),
            storm["statuses"].get("503", 0),
            sum(n for code, n in storm["statuses"].items() if code not in {"200", "503"}),
            storm["all_open_ms"],
        ]
        for run in results["runs"]
        for number, storm in enumerate(run["storms"])
    ]
    print(
        report.table(
            "reconnect storm: every screen opens /events at once",
            ["run", "screens", "storm", "200", "503", "other", "all open (ms)"],
            rows,
        )
    )
    for run in results["runs"]:
        for storm in run["storms"]:
            for line in storm["refused_sample"]:
                print(f"  {run['backend']}: {line}")
        for line in run["server_errors"][:5]:
            print(f"  {run['backend']} server: {line}")
    report.save("reconnect", results)
    return results


if __name__ == "__main__":
    main()
