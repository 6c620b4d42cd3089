"""Fuzzing the API at length: schemathesis against a real gunicorn, far past the suite's bounds.

    .venv/bin/python -m bench.fuzz [--examples 500] [--backend both] [--no-stateful]

The suite (tests/security/test_api_fuzz.py) runs at most 25 examples per operation in-process;
this runs ``--examples`` per operation (500 by default) over HTTP against gunicorn with our
config, on a small realistic dataset, with the stateful phase too (sequences of calls linked
by the ids one answer gives the next), once with a manager's bearer token over every /api
operation and once with a staff token over the operations staff may use. Same seed and checks
as the suite: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance. Target: 0 failures, and no traceback in the server's log.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import report, sse
from .dataset import Size
from .server import Server, app_env
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
SEED = 13
# Which operations each role's token is sent to: the manager every /api one but the
# description itself, staff those /api/openapi.json tags as theirs.
ROLES = {
    "manager": ["--include-path-regex", "^/api/", "--exclude-path", "/api/openapi.json"],
    "staff": ["--include-tag", "staff"],
}


def fuzz(server: Server, token: str, role: str, args: argparse.Namespace, out: Path) -> dict:
    """One schemathesis run over HTTP; its JSON report's totals."""
    phases = "examples,coverage,fuzzing" + ("" if args.no_stateful else ",stateful")
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        *ROLES[role],
        "--checks",
        CHECKS,
        "--phases",
        phases,
        "--max-examples",
        str(args.examples),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--report",
        "json",
        "--report-json-path",
        str(out),
    ]
    started = time.perf_counter()
    # In the instance folder: schemathesis keeps a cache folder where it runs.
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=out.parent)
    found = json.loads(out.read_text()) if out.exists() else {}
    return {
        "role": role,
        "exit_status": done.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "summary": _summary(found),
        "output_tail": done.stdout.splitlines()[-40:],
    }


def _summary(found: dict[str, Any]) -> dict[str, Any]:
    """What the table shows of schemathesis' JSON run report."""
    phases = found.get("phases", {})
    return {
        "operations": found.get("operations", {}).get("tested"),
        "cases": found.get("test_cases", {}).get("generated"),
        "failures": len(found.get("failures") or []),
        "errors": len(found.get("errors") or []),
        "phases_run": [name for name, phase in phases.items() if phase["status"] != "skip"],
        "stop_reason": found.get("stop_reason"),
    }


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    url = workspace.copy(backend, Size(args.customers, args.calls), f"fuzz-{backend}")
    instance = workspace.instance(f"fuzz-{backend}")
    server = Server(app_env(url, instance), instance / "gunicorn.log").start()
    try:
        runs = [
            fuzz(server, sse.token(url, role), role, args, instance / f"{role}.json")
            for role in ROLES
        ]
        errors = server.errors()
    finally:
        server.stop()
    return {"backend": backend, "runs": runs, "server_errors": errors[:20]}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--examples", type=int, default=500, help="per operation and phase")
    parser.add_argument("--no-stateful", action="store_true", help="leave the stateful phase out")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"size": describe(args), "examples": args.examples, "backends": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["backends"].append(run_backend(args, workspace, backend))
    rows = [
        [
            f"{found['backend']} {run['role']}",
            run["exit_status"],
            run["seconds"],
            run["summary"]["operations"],
            run["summary"]["cases"],
            run["summary"]["failures"],
            run["summary"]["errors"],
            ",".join(run["summary"]["phases_run"]),
            len(found["server_errors"]),
        ]
        for found in results["backends"]
        for run in found["runs"]
    ]
    print(
        report.table(
            f"schemathesis, {args.examples} examples per operation",
            [
                "run",
                "exit",
                "s",
                "operations",
                "cases",
                "failures",
                "errors",
                "phases",
                "tracebacks",
            ],
            rows,
        )
    )
    for found in results["backends"]:
        for run in found["runs"]:
            if run["exit_status"]:
                print("\n".join(run["output_tail"]))
        for line in found["server_errors"][:5]:
            print(f"  {found['backend']} server: {line}")
    report.save("fuzz", results)
    return results


if __name__ == "__main__":
    main()
