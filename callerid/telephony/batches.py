"""Several webhooks in one transaction, tried again when the database says it may work.

A batch that fails on a deadlock, a serialisation failure, a lock or statement timeout or
SQLite's busy lock is tried once more whole; then, as after a failure on one webhook's data,
webhook by webhook, each with a fair share of the time left, so that one stuck on a lock cannot
cost the others their record. A database that is down fails the batch at once. What is not
recorded comes back as None: its webhook spools it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .. import errors, metrics
from ..pool import QueueFull
from .groupcommit import GroupCommitTimeout

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")

# PostgreSQL's deadlock, serialisation failure, lock timeout and statement timeout: the same
# work may well succeed when tried again.
RETRYABLE = {"40P01", "40001", "55P03", "57014"}


@dataclass(frozen=True, slots=True)
class Kind(Generic[Item, Result]):
    """What a batch of one kind of webhook is: how to record items in one transaction bounded by
    some seconds, and an item's route (for counts and logs) and CallSid."""

    attempt: Callable[[list[Item], float], list[Result]]
    route: Callable[[Item], str]
    call_sid: Callable[[Item], str]


def record(
    kind: Kind[Item, Result], items: list[Item], deadline: float, try_for: float
) -> list[Result | None]:
    """Record ``items`` by ``deadline`` (time.monotonic()); a whole batch's try takes at most
    ``try_for`` seconds, so that a lock that times it out leaves time to try again."""
    try:
        return list(kind.attempt(items, _seconds(deadline, try_for)))
    except SQLAlchemyError as first:
        if is_down(first):
            raise
        return _retried(kind, items, deadline, try_for, first)


def _retried(
    kind: Kind[Item, Result],
    items: list[Item],
    deadline: float,
    try_for: float,
    error: SQLAlchemyError,
) -> list[Result | None]:
    counted = False
    if is_transient(error) and len(items) > 1 and time.monotonic() < deadline:
        _count_retried(kind, items)
        counted = True
        try:
            return list(kind.attempt(items, _seconds(deadline, try_for)))
        except SQLAlchemyError as again:
            if is_down(again):
                raise
    results: list[Result | None] = []
    for index, item in enumerate(items):
        share = (deadline - time.monotonic()) / (len(items) - index)
        results.append(_alone(kind, item, share, error, count=not counted))
    return results


def _alone(
    kind: Kind[Item, Result],
    item: Item,
    seconds: float,
    batch_error: SQLAlchemyError,
    *,
    count: bool,
) -> Result | None:
    """One item in a transaction of its own, if time is left; None (logged) when it failed."""
    error: SQLAlchemyError = batch_error
    if seconds > 0.01:
        if count:
            _count_retried(kind, [item])
        try:
            return kind.attempt([item], seconds)[0]
        except SQLAlchemyError as own:
            error = own
    failed(kind.route(item), {"CallSid": kind.call_sid(item)}, error)
    return None


def is_transient(error: BaseException) -> bool:
    """A failure the same work may not meet again: deadlock, serialisation, lock or statement
    timeout, SQLite's busy lock, a pool that was momentarily empty."""
    if isinstance(error, QueueFull):
        return False  # a line that long does not clear in a retry's time: spool now
    if isinstance(error, GroupCommitTimeout | TimeoutError | PoolTimeout):
        return True
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in RETRYABLE:
        return True
    text = str(original).lower() if original is not None else ""
    return type(original).__module__ == "sqlite3" and ("locked" in text or "busy" in text)


def is_down(error: SQLAlchemyError) -> bool:
    """The database is out of reach (not merely busy), or this process's queue for it is
    full: no retry can help now."""
    if isinstance(error, QueueFull):
        return True
    return bool(getattr(error, "connection_invalidated", False)) or (
        errors.is_overload(error) and not is_transient(error)
    )


def failed(route: str, form: Mapping[str, Any], error: BaseException) -> None:
    """Log that a webhook's record failed, naming its route and CallSid (rate-limited)."""
    call_sid = form.get("CallSid", "?")
    what = "database failure" if isinstance(error, SQLAlchemyError) else "failure"
    errors.log_failure(log, f"{what} on {route} ({call_sid})", error)


def _count_retried(kind: Kind[Item, Any], items: list[Item]) -> None:
    for item in items:
        metrics.webhook_outcome(kind.route(item), "retried")


def _seconds(deadline: float, try_for: float) -> float:
    return max(0.05, min(deadline - time.monotonic(), try_for))
