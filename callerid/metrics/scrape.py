"""Gauges worked out when Prometheus scrapes: what is cheaper to measure than to keep counting.

Spool depth and event lag are facts about files and tables that other processes change too; a
value kept up to date in each worker would be stale or double counted. Whoever owns such a fact
registers a function with ``on_scrape`` and the process answering the scrape calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Flask
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
_KEY = "callerid.metrics.scrape"


@dataclass(frozen=True)
class ScrapeGauge:
    name: str
    help: str
    read: Callable[[], float | None]


def on_scrape(
    app: Flask,
    name: str,
    help: str,
    read: Callable[[], float | None],
    *,
    replace: bool = True,
) -> None:
    """Publish gauge ``name`` on ``app``'s /metrics with the value ``read()`` returns at each
    scrape (``None`` leaves it out of that scrape). Registering a name again replaces the
    earlier function: that is how a default (spool depth 0) gives way to the real one. Defaults
    pass ``replace=False``, so they never replace a real one registered before them."""
    gauges: dict[str, ScrapeGauge] = app.extensions.setdefault(_KEY, {})
    if replace or name not in gauges:
        gauges[name] = ScrapeGauge(name, help, read)


def collector(app: Flask) -> Collector:
    """The gauges registered on ``app``, as a collector for one exposition."""
    return _Gauges(list(app.extensions.get(_KEY, {}).values()))


class _Gauges(Collector):
    def __init__(self, gauges: list[ScrapeGauge]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for gauge in self._gauges:
            value = _read(gauge)
            if value is not None:
                yield GaugeMetricFamily(gauge.name, gauge.help, value=value)


def _read(gauge: ScrapeGauge) -> float | None:
    # A gauge that cannot be read (its database is down) is left out of this scrape; the
    # counters, which need nothing but memory, are still served.
    try:
        return gauge.read()
    except Exception as error:  # noqa: BLE001 - any failure: skip the gauge, keep the scrape
        log.warning("could not read %s for /metrics: %s", gauge.name, error)
        return None
