"""What an instance says about itself on ``GET /metrics`` (docs/deployment.md, "Metrics"), read
as Prometheus reads it, and the spool it reports, read from disk when /metrics cannot answer."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from . import client

WEBHOOKS = "callerid_webhook_requests_total"
SPOOL_DEPTH = "callerid_spool_depth"

Outcomes = dict[str, dict[str, float]]  # route -> outcome -> requests


def token(url: str, name: str = "bench-metrics") -> str:
    """A ``metrics`` token (reads /metrics only), issued as ``flask tokens create --kind metrics``
    issues it, for a manager made for the purpose."""
    from sqlalchemy import select

    from callerid.auth import create_user, tokens
    from callerid.models import User

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                user = create_user(session, name, "manager", "bench-password")
            issued = tokens.issue(session, user, kind="metrics")
            session.commit()
    finally:
        engine.dispose()
    return issued


async def scrape(target: tuple[str, int], bearer: str, timeout: float = 2.0) -> str | None:
    """The exposition text, or None when the instance did not answer it with 200."""
    answer = await client.get(target, "/metrics", bearer, timeout)
    return answer.body.decode() if answer.status == 200 else None


def outcomes(text: str) -> Outcomes:
    """Webhook requests per route and outcome."""
    found: Outcomes = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == WEBHOOKS:
                route, outcome = sample.labels["route"], sample.labels["outcome"]
                found.setdefault(route, {})[outcome] = sample.value
    return found


def spool_depth(text: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == SPOOL_DEPTH:
                return sample.value
    return None


def spool_depth_on_disk(instance: Path) -> int:
    """The instance's spool as its ``callerid_spool_depth`` counts it, read from its files."""
    from callerid.telephony.spool import Spool

    return Spool(instance / "spool").depth()


def difference(after: list[Outcomes], before: list[Outcomes]) -> Outcomes:
    """Requests counted between two scrapes of each instance, summed over instances."""
    total: Outcomes = {}
    for later, earlier in zip(after, before, strict=True):
        for route, counts in later.items():
            for outcome, value in counts.items():
                delta = value - earlier.get(route, {}).get(outcome, 0.0)
                route_total = total.setdefault(route, {})
                route_total[outcome] = route_total.get(outcome, 0.0) + delta
    return total
