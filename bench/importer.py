"""The customer list in and out: ``flask customers import`` and ``export`` as an operator runs them.

    .venv/bin/python -m bench.importer [--rows 5000] [--export-sizes 1000,10000]
    .venv/bin/python -m bench.importer --rows 100000 --export-sizes 10000,100000

Import: a generated CSV (names, one or two valid numbers in the formats people type, emails,
notes, VIP flags, tags, birthdays) into an empty database (target: 100k rows < 30 s). Export: the
whole directory to a file at two sizes; the peak resident memory of the command should stay
roughly constant as the directory grows.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.e2e.server import TOP

from . import report
from .dataset import FIRST, LAST, NOTES, NumberPool, Size
from .server import app_env
from .workspace import Workspace, add_common_arguments, chosen_backends


def write_csv(path: Path, rows: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    pool = NumberPool(rng)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "phone", "mobile", "email", "notes", "vip", "tags", "birthday"])
        for index in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow(
                [
                    f"{first} {last}",
                    _typed(pool.customer(), rng),
                    _typed(pool.customer(), rng) if rng.random() < 0.3 else "",
                    f"{first.lower()}.{last.lower()}{index}@example.com"
                    if rng.random() < 0.6
                    else "",
                    rng.choice(NOTES) if rng.random() < 0.2 else "",
                    "yes" if rng.random() < 0.03 else "",
                    "regular" if rng.random() < 0.15 else "",
                    f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    if rng.random() < 0.2
                    else "",
                ]
            )


def _typed(number: str, rng: random.Random) -> str:
    """An E.164 number as a person might type it in a spreadsheet."""
    if not number.startswith("+1"):
        return number
    digits = number[2:]
    style = rng.randrange(4)
    if style == 0:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if style == 1:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    if style == 2:
        return f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return number


def run_flask(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run ``python -m flask --app wsgi ARGS`` and return its exit code, seconds and peak RSS."""
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=TOP,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # wait4 gives this child's own peak resident memory (ru_maxrss, KiB on Linux).
    out, err = process.communicate(timeout=900)
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "exit": process.returncode,
        "seconds": round(seconds, 2),
        "children_max_rss_kib": usage.ru_maxrss,
        "stdout_tail": out.decode(errors="replace")[-400:],
        "stderr_tail": err.decode(errors="replace")[-400:],
    }


def peak_rss(env: dict[str, str], *args: str) -> dict[str, Any]:
    """``run_flask`` in a fresh helper process, so ru_maxrss is this command's alone."""
    helper = (
        "import json, sys; from bench.importer import run_flask; "
        "print(json.dumps(run_flask(json.loads(sys.argv[1]), *sys.argv[2:])))"
    )
    import json

    done = subprocess.run(
        [sys.executable, "-c", helper, json.dumps(env), *args],
        cwd=TOP,
        capture_output=True,
        text=True,
        timeout=960,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["peak_rss_mib"] = round(found.pop("children_max_rss_kib") / 1024, 1)
    return found


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    found: dict[str, Any] = {"backend": backend}
    source = workspace.root / "run" / f"import-{args.rows}.csv"
    if not source.exists():
        write_csv(source, args.rows)
    url = workspace.fresh(backend, f"import-{backend}")
    env = app_env(url, workspace.instance(f"import-{backend}"))
    found["import"] = {"rows": args.rows, **peak_rss(env, "customers", "import", str(source))}
    found["export"] = []
    for customers in args.export_sizes:
        size = Size(customers, 0)
        url = workspace.copy(backend, size, f"export-{customers}-{backend}")
        env = app_env(url, workspace.instance(f"export-{backend}"))
        target = workspace.root / "run" / f"export-{customers}-{backend}.csv"
        result = peak_rss(env, "customers", "export", str(target))
        result["customers"] = customers
        result["bytes"] = target.stat().st_size if target.exists() else 0
        found["export"].append(result)
    return found


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.importer", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--rows", type=int, default=5000, help="rows in the imported CSV")
    parser.add_argument(
        "--export-sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1000, 10_000],
        help="directory sizes to export, comma-separated",
    )
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = []
    for run in results["runs"]:
        imported = run["import"]
        rows.append(
            [
                f"{run['backend']}: import {imported['rows']:,} rows",
                imported["exit"],
                imported["seconds"],
                imported["peak_rss_mib"],
            ]
        )
        for exported in run["export"]:
            rows.append(
                [
                    f"{run['backend']}: export {exported['customers']:,} customers",
                    exported["exit"],
                    exported["seconds"],
                    exported["peak_rss_mib"],
                ]
            )
    print(
        report.table(
            "customers import/export through the CLI (wall seconds, peak RSS of the command)",
            ["command", "exit", "seconds", "peak MiB"],
            rows,
        )
    )
    for run in results["runs"]:
        if run["import"]["exit"] != 0:
            print(f"{run['backend']} import said: {run['import']['stderr_tail']}")
    report.save("importer", results)
    return results


if __name__ == "__main__":
    main()
