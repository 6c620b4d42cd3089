"""The README's first command: `bash scripts/run` sets up, serves, takes a simulated call (with the
command it prints), and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ..pg import free_port

TOP = Path(__file__).resolve().parents[2]
# What a newcomer's shell would not have: the run script must work from nothing.
UNSET = ("DATABASE_URL", "SECRET_KEY", "TWILIO_AUTH_TOKEN", "HOST", "PORT")


class Script:
    """A script run as from a terminal: its own process group, output read line by line."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=TOP,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._fresh: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._fresh.put(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._fresh.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self._fresh.empty():
                    break
                continue
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no {pattern!r} in the output:\n{self.output()}")

    def interrupt(self, timeout: float = 20) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the script's process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def run_script(tmp_path: Path) -> Iterator[tuple[Script, Path, int]]:
    port = free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("CALLERID_")}
    env.update(PORT=str(port), CALLERID_INSTANCE_PATH=str(instance), FLASK_SKIP_DOTENV="1")
    script = Script(["bash", "scripts/run"], env)
    yield script, instance, port
    if script.process.poll() is None:
        os.killpg(script.process.pid, signal.SIGKILL)
    # gunicorn runs in its own process group; never leave it behind, even when a test failed.
    master = re.search(r"Listening at: \S+ \((\d+)\)", script.output())
    if master:
        try:
            os.killpg(int(master.group(1)), signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_the_run_script_serves_takes_a_simulated_call_and_stops_on_ctrl_c(run_script):
    script, instance, port = run_script
    script.wait_for(rf"callerid is listening on http://127\.0\.0\.1:{port}$", timeout=180)
    script.wait_for(r"log in as desk .* password callerid-demo", timeout=5)
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"status": "ok"}

    # The command it suggests, as printed, from another terminal (no TWILIO_AUTH_TOKEN there).
    command = r"^\s+((?:\S+=\S+ )?\.venv/bin/flask --app wsgi simulate call .*)$"
    suggested = script.wait_for(command, timeout=5)
    env = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("CALLERID_")}
    simulated = subprocess.run(
        ["bash", "-c", suggested.group(1) + " --fast"],
        cwd=TOP,
        env={**env, "FLASK_SKIP_DOTENV": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert simulated.returncode == 0, simulated.stderr + script.output()[-3000:]
    assert "Done: the desk answered" in simulated.stdout

    call_sid = re.search(r"CallSid (CA[0-9a-f]{32})", simulated.stdout).group(1)
    with sqlite3.connect(instance / "callerid.sqlite3") as database:
        row = database.execute(
            "SELECT calls.status, calls.is_missed, customers.name FROM calls"
            " LEFT JOIN customers ON customers.id = calls.customer_id WHERE call_sid = ?",
            (call_sid,),
        ).fetchone()
    assert row == ("completed", 0, "Eleanor Whitfield")  # the demo's regular on that number

    assert script.interrupt() == 0
    assert "callerid stopped." in script.output()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
