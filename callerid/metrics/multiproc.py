"""The folder gunicorn's workers share their metrics through (``PROMETHEUS_MULTIPROC_DIR``).

config/gunicorn.conf.py calls these: ``prepare`` once when the master starts, ``worker_started``
in each new worker, ``worker_gone`` whenever gunicorn reaps a worker. See ``counters`` for why
the folder exists at all.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import multiprocess

from . import counters


def prepare(folder: str) -> int:
    """Create ``folder`` if needed and delete the value files a previous run left in it; return
    how many. Without this, a restarted instance would add its old workers' counts to the new
    ones'. Only prometheus_client's ``*.db`` files go: if the variable points somewhere shared
    by mistake, nothing else there is touched."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    stale = list(path.glob("*.db"))
    for file in stale:
        file.unlink(missing_ok=True)
    return len(stale)


def worker_gone(folder: str, pid: int) -> None:
    """A worker exited: its open-stream gauge no longer counts (its counters still do, so
    totals never drop when gunicorn replaces a worker)."""
    multiprocess.mark_process_dead(pid, folder)


def worker_started() -> None:
    """Write this worker's file now, every series at its start value (0), so that a scrape right
    after a (re)start shows them; prometheus_client would write it at the worker's first count.
    Touching any one value is enough: after a fork it reopens all of them in the worker's file."""
    counters.STREAMS.inc(0)
