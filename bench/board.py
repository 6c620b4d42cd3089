"""Board: from a signed voice webhook to the caller's card drawn on a real browser's board.

    .venv/bin/python -m bench.board [--rings 20] [--backend sqlite|postgresql|both]

gunicorn (2 workers, so events cross processes) on a fresh database; headless Debian Chromium
logs in as a desk user and opens the board. Calls then ring one at a time, alternating a known
customer and strangers. For each call: the time from sending the webhook to the page drawing
the card (the page stamps each card with ``data-shown-at``, epoch ms, on the same machine's
clock), and the server's own record of it (``received_at`` to ``card_shown_at``, which the page
reports back). Target: a card on screen within a fraction of a second of the webhook.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from . import report, twilio
from .server import Server, app_env
from .workspace import Workspace, add_common_arguments, chosen_backends, describe

CHROMIUM = Path("/usr/bin/chromium")
# Quiet on a closed network: no background fetches, no QUIC, no first-run pages. The browser
# tests (tests/e2e/browser.py) launch it the same way.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESK_USER, DESK_PASSWORD = "bench-desk", "bench-password"
KNOWN = "+13125550187"


def _seed(url: str) -> None:
    """The desk's login and one known customer, written with our own functions."""
    from callerid.auth import create_user
    from callerid.models import Customer, PhoneNumber

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            create_user(session, DESK_USER, "staff", DESK_PASSWORD)
            customer = Customer(name="Anna Moors", salutation="Mrs.")
            customer.numbers = [PhoneNumber(number=KNOWN)]
            session.add(customer)
            session.commit()
    finally:
        engine.dispose()


def _open_board(browser: Any, server: Server) -> Any:
    page = browser.new_context(viewport={"width": 1180, "height": 820}).new_page()
    page.set_default_timeout(15_000)
    page.goto(server.url + "/login")
    page.get_by_label("Name").fill(DESK_USER)
    page.get_by_label("Password").fill(DESK_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    page.wait_for_selector('body[data-stream="open"]')
    return page


def _ring(server: Server, call_sid: str, caller: str) -> float:
    """Send the signed voice webhook; return when it was sent (epoch ms)."""
    import requests

    signed = twilio.voice(f"{server.host}:{server.port}", call_sid, caller)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signed.signature,
    }
    sent_at = time.time() * 1000
    answer = requests.post(server.url + signed.path, data=signed.body, headers=headers, timeout=10)
    answer.raise_for_status()
    return sent_at


def _measure(page: Any, server: Server, calls: int) -> dict[str, float]:
    """Ring ``calls`` calls one at a time; each CallSid's ms from webhook sent to card drawn."""
    delays = {}
    for n, call_sid in enumerate(twilio.call_sids(calls)):
        caller = KNOWN if n % 2 else f"+1415555{n:04d}"
        sent_at = _ring(server, call_sid, caller)
        card = page.wait_for_selector(f'#live-cards article.card[data-call-sid="{call_sid}"]')
        delays[call_sid] = float(card.get_attribute("data-shown-at")) - sent_at
    return delays


def _recorded(url: str, call_sids: list[str], seconds: float = 10) -> list[float]:
    """The server's received_at -> card_shown_at for these calls, in ms, once the page has
    acknowledged them all (or ``seconds`` have passed)."""
    from callerid.models import Call

    engine = create_engine(url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            with Session(engine) as session:
                rows = session.execute(
                    select(Call.received_at, Call.card_shown_at).where(
                        Call.card_shown_at.is_not(None), Call.call_sid.in_(call_sids)
                    )
                ).all()
            if len(rows) >= len(call_sids) or time.monotonic() > deadline:
                return [(shown - received).total_seconds() * 1000 for received, shown in rows]
            time.sleep(0.1)
    finally:
        engine.dispose()


def run_backend(args: argparse.Namespace, workspace: Workspace, backend: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    url = workspace.fresh(backend, f"board-{backend}")
    _seed(url)
    instance = workspace.instance(f"board-{backend}")
    server = Server(app_env(url, instance), instance / "gunicorn.log").start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = _open_board(browser, server)
                _measure(page, server, args.warmup)  # both workers' first-call paths
                delays = _measure(page, server, args.rings)
            finally:
                browser.close()
        recorded = _recorded(url, list(delays))
        errors = server.errors()
    finally:
        server.stop()
    return {
        "backend": backend,
        "calls": args.rings,
        "webhook_to_card_ms": report.latency_summary(list(delays.values())),
        "server_recorded_ms": report.latency_summary(recorded),
        "acknowledged": len(recorded),
        "server_errors": errors[:20],
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--rings", type=int, default=20, help="calls measured, one at a time")
    parser.add_argument("--warmup", type=int, default=2, help="calls rung before measuring")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    rows = [
        [
            run["backend"],
            run["calls"],
            run["webhook_to_card_ms"]["p50"],
            run["webhook_to_card_ms"]["max"],
            run["server_recorded_ms"]["p50"],
            run["acknowledged"],
        ]
        for run in results["runs"]
    ]
    print(
        report.table(
            "board: webhook sent -> card drawn in a real browser (ms)",
            ["backend", "calls", "p50", "max", "server p50", "acknowledged"],
            rows,
        )
    )
    report.save("board", results)
    return results


if __name__ == "__main__":
    main()
