"""One scrape: the counters (of every worker, or of this process) and the scrape-time gauges."""

from __future__ import annotations

import os
from collections.abc import Iterator

from flask import Flask
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from . import counters, scrape

# The classic text format: every Prometheus (2.x and 3.x) and most other scrapers read it, and
# our names need none of 1.0.0's escaping. generate_latest writes the same bytes for both.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


def multiproc_dir() -> str | None:
    """The folder the workers share their values through, or None in single-process mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render(app: Flask) -> bytes:
    """The Prometheus text format of everything ``app`` publishes."""
    return generate_latest(_Everything(app))


class _Everything(Collector):
    # generate_latest only calls collect(); a throwaway object per scrape is all it needs.
    def __init__(self, app: Flask) -> None:
        self._parts: list[Collector] = [_counters(), scrape.collector(app)]

    def collect(self) -> Iterator[Metric]:
        for part in self._parts:
            yield from part.collect()


def _counters() -> Collector:
    path = multiproc_dir()
    if path is None:
        return counters.LOCAL
    # Reads every worker's file, dead workers' counters included, so that totals never drop
    # when gunicorn replaces a worker; the livesum gauge counts only live ones.
    return MultiProcessCollector(None, path=path)
