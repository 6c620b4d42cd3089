"""Does a failed login take as long for an unknown name as for a real one?

    .venv/bin/python -m bench.logins [--rounds 200]

Posts the real login form (in process, production's scrypt hashing, a SQLite file) with a wrong
password for a name that exists and for one that does not, interleaved, each from its own client
address so that throttling never answers first. Reports both latency distributions: if they
differ, response times tell which names exist (issue 13, finding 5). Timings are never asserted
in tests; this is where they are measured.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask

from . import report


def login_millis(app: Flask, name: str, address: str) -> float:
    """Milliseconds for one failed login of ``name`` from ``address`` (the form fetched first)."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if found is None:
        raise RuntimeError(f"the login page has no CSRF token: {page[:200]!r}")
    token = found.group(1)
    form = {"name": name, "password": "not the password", "csrf_token": token}
    started = time.perf_counter()
    response = client.post("/login", data=form, environ_base=environ)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 401, response.status_code
    return elapsed


def run(rounds: int, folder: Path) -> dict[str, Any]:
    from callerid import create_app, db
    from callerid.auth import create_user
    from callerid.cli.database import upgrade

    url = f"sqlite:///{folder / 'logins.sqlite3'}"
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder),
            "SECRET_KEY": "bench",
            "CALLERID_PASSWORD_HASH": "scrypt",
            "TESTING": True,
        }
    )
    with db.new_session(app) as session:
        create_user(session, "desk", "staff", "correct horse battery")
        session.commit()
    found: dict[str, list[float]] = {"known": [], "unknown": []}
    login_millis(app, "desk", "192.0.2.250")  # warm up: the dummy hash is made on first use
    for index in range(rounds):
        address = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
        found["known"].append(login_millis(app, "desk", address))
        found["unknown"].append(login_millis(app, "nobody", address))
    db.engine_for(app).dispose()
    return {kind: report.latency_summary(millis) for kind, millis in found.items()}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="failed logins per kind")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="callerid-logins-") as folder:
        results = run(args.rounds, Path(folder))
    rows = [[kind, s["count"], s["p50"], s["p95"], s["max"]] for kind, s in results.items()]
    print(report.table("failed login, ms", ["name", "n", "p50", "p95", "max"], rows))
    report.save("logins", {"runs": [results]})
    return {"runs": [results]}


if __name__ == "__main__":
    main()
