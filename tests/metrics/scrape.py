"""Reading /metrics as Prometheus reads it: with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float | None:
    """One sample's value, or None when the exposition does not have it."""
    return samples(text).get((name, tuple(sorted(labels.items()))))


def webhooks(text: str, route: str, outcome: str) -> float | None:
    return value(text, "callerid_webhook_requests_total", route=route, outcome=outcome)
