"""Group commit: the voice webhooks a process is handling at once share one transaction.

Under load, what a webhook spent was mostly per statement and per commit, not per row
(docs/benchmarks.md). So the first webhook to arrive leads: it lets the others already in
flight join it, records them all in one batch, and hands each its own result. Every webhook
still answers only once its call is committed; a lone webhook forms a batch of one at once.

No thread of its own: leaders are the request handlers themselves, which works the same under
gunicorn's gevent workers (threading is patched into greenlets) and under plain threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 64
# How many times a leader yields while others keep joining. One yield lets every webhook whose
# request has already arrived reach the queue; more only helps while the queue still grows.
GATHER_YIELDS = 3


class GroupCommitTimeout(TimeoutError):
    """A webhook waited longer than its patience for the batch it joined."""


class _Slot(Generic[Item, Result]):
    __slots__ = ("item", "deadline", "result", "error", "done")

    def __init__(self, item: Item, deadline: float) -> None:
        self.item = item
        self.deadline = deadline
        self.result: Result  # set by the batch's leader before done, unless it sets error
        self.error: BaseException | None = None
        self.done = False

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit(Generic[Item, Result]):
    """Run ``record(items, deadline) -> results`` (one result per item, in order) over batches
    of the items submitted concurrently; ``deadline`` (time.monotonic()) is the soonest of the
    batch's webhooks' own, so no webhook waits past its patience for a batch it joined late."""

    def __init__(
        self, record: Callable[[list[Item], float], Sequence[Result]], max_batch: int = MAX_BATCH
    ) -> None:
        self._record = record
        self._max_batch = max_batch
        self._turn = threading.Condition(threading.Lock())
        self._queue: list[_Slot[Item, Result]] = []
        self._leading = False

    def submit(self, item: Item, patience: float) -> Result:
        """Record ``item`` in the next batch and return its result (or raise its batch's error).
        Raises ``GroupCommitTimeout`` after ``patience`` seconds of waiting on another leader."""
        deadline = time.monotonic() + patience
        slot: _Slot[Item, Result] = _Slot(item, deadline)
        with self._turn:
            self._queue.append(slot)
            while not slot.done and self._leading:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._turn.wait(remaining):
                    if not slot.done:
                        if slot in self._queue:  # not taken yet: no batch will record it now
                            self._queue.remove(slot)
                        raise GroupCommitTimeout(f"no batch recorded this within {patience:g} s")
            if slot.done:
                return slot.outcome()
            self._leading = True
        try:
            self._gather()
            while not slot.done:
                self._lead_one_batch()
        finally:
            with self._turn:
                self._leading = False
                self._turn.notify_all()
        return slot.outcome()

    def _gather(self) -> None:
        seen = 0
        for _ in range(GATHER_YIELDS):
            with self._turn:
                waiting = len(self._queue)
            if waiting == seen or waiting >= self._max_batch:
                return
            seen = waiting
            time.sleep(0)  # under gevent: let the other greenlets with a request in hand run

    def _lead_one_batch(self) -> None:
        with self._turn:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            deadline = min(slot.deadline for slot in batch)
            results = self._record([slot.item for slot in batch], deadline)
        except BaseException as error:  # every webhook of the batch hears of it
            for slot in batch:
                slot.error = error
        else:
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        with self._turn:
            for slot in batch:
                slot.done = True
            self._turn.notify_all()
