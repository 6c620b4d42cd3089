"""Group commit: webhooks that arrive together share a batch, and each gets its own answer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from callerid.telephony.groupcommit import GroupCommit, GroupCommitTimeout


class Recorder:
    """A record function that can be held, so that webhooks pile up behind a running batch."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.deadlines: list[float] = []
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.release.set()
        self.running = threading.Event()
        self.fail_on = fail_on

    def __call__(self, items: list[str], deadline: float) -> list[str]:
        self.deadlines.append(deadline)
        self.batches.append(list(items))
        self.running.set()
        self.release.wait(10)
        if self.fail_on in items:
            raise ValueError(f"cannot record {self.fail_on}")
        return [item.upper() for item in items]


def submit_all(
    commit: GroupCommit, items: list[str], patience: float = 10
) -> tuple[dict[str, object], list[threading.Thread]]:
    outcomes: dict[str, object] = {}

    def one(item: str) -> None:
        try:
            outcomes[item] = commit.submit(item, patience)
        except Exception as error:
            outcomes[item] = error

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return outcomes, threads


def wait_queued(commit: GroupCommit, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(commit._queue) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def behind_a_running_batch(
    commit: GroupCommit, recorder: Recorder, items: list[str]
) -> dict[str, object]:
    """Submit ``items`` while a first webhook's batch is held running, then let it all finish;
    what each of ``items`` got back."""
    recorder.release.clear()
    _, first_threads = submit_all(commit, ["first"])
    assert recorder.running.wait(5)
    outcomes, threads = submit_all(commit, items)
    wait_queued(commit, len(items))
    recorder.release.set()
    for thread in first_threads + threads:
        thread.join(10)
    return outcomes


def test_a_lone_webhook_is_recorded_at_once_in_a_batch_of_one():
    recorder = Recorder()
    commit = GroupCommit(recorder)
    assert commit.submit("a", patience=1) == "A"
    assert recorder.batches == [["a"]]


def test_webhooks_arriving_during_a_batch_share_the_next_one_and_get_their_own_results():
    recorder = Recorder()
    commit = GroupCommit(recorder)
    later = behind_a_running_batch(commit, recorder, [f"call{i}" for i in range(12)])
    assert later == {f"call{i}": f"CALL{i}" for i in range(12)}
    assert recorder.batches[0] == ["first"]
    assert sorted(recorder.batches[1]) == sorted(later)  # all twelve in one transaction


def test_a_batch_never_exceeds_its_size_and_nobody_is_left_behind():
    recorder = Recorder()
    commit = GroupCommit(recorder, max_batch=5)
    later = behind_a_running_batch(commit, recorder, [f"call{i}" for i in range(12)])
    assert [len(batch) for batch in recorder.batches] == [1, 5, 5, 2]
    assert later == {f"call{i}": f"CALL{i}" for i in range(12)}


def test_a_failed_batch_tells_each_of_its_webhooks_and_the_next_batch_still_records():
    recorder = Recorder(fail_on="bad")
    commit = GroupCommit(recorder)
    failed = behind_a_running_batch(commit, recorder, ["bad", "good"])
    assert all(isinstance(outcome, ValueError) for outcome in failed.values())
    assert commit.submit("after", patience=1) == "AFTER"


def test_a_webhook_stuck_behind_a_slow_batch_gives_up_after_its_patience():
    recorder = Recorder()
    recorder.release.clear()
    commit = GroupCommit(recorder)
    _, first_threads = submit_all(commit, ["slow"])
    assert recorder.running.wait(5)
    started = time.monotonic()
    with pytest.raises(GroupCommitTimeout):
        commit.submit("waiting", patience=0.2)
    assert time.monotonic() - started < 5
    recorder.release.set()
    for thread in first_threads:
        thread.join(10)
    # The one that gave up is left to its webhook, which spools it: no batch records it too.
    assert commit.submit("next", patience=1) == "NEXT"
    assert not any("waiting" in batch for batch in recorder.batches)


def test_many_webhooks_at_once_each_get_their_own_result_and_none_is_stranded():
    batches: list[int] = []

    def record(items: list[int], deadline: float) -> list[int]:
        batches.append(len(items))
        time.sleep(0.001)  # a transaction takes a while: the others pile up meanwhile
        return [item * 2 for item in items]

    commit = GroupCommit(record)
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda item: commit.submit(item, 10), range(2000)))
    assert results == [item * 2 for item in range(2000)]
    assert sum(batches) == 2000
    assert len(batches) < 2000  # some webhooks shared a transaction


def test_a_batch_ends_by_its_most_hurried_webhook_and_a_webhook_that_gave_up_is_left_out():
    recorder = Recorder()
    commit = GroupCommit(recorder)
    recorder.release.clear()
    first = threading.Thread(target=lambda: commit.submit("first", 10))
    first.start()
    assert recorder.running.wait(5)  # "first" leads a batch that is held
    outcomes: dict[str, object] = {}

    def submit(item: str, patience: float) -> None:
        try:
            outcomes[item] = commit.submit(item, patience)
        except GroupCommitTimeout as error:
            outcomes[item] = error

    hurried = threading.Thread(target=submit, args=("hurried", 3))
    patient = threading.Thread(target=submit, args=("patient", 10))
    gave_up = threading.Thread(target=submit, args=("gave-up", 0.05))
    started = time.monotonic()
    for thread in (hurried, patient, gave_up):
        thread.start()
    gave_up.join(5)
    assert isinstance(outcomes["gave-up"], GroupCommitTimeout)
    wait_queued(commit, 2)
    recorder.release.set()
    for thread in (first, hurried, patient):
        thread.join(5)
    # The next batch had "hurried" and "patient", not "gave-up" (its webhook spooled it), and
    # had to end by "hurried"'s deadline, not "patient"'s.
    assert recorder.batches[-1] == ["hurried", "patient"]
    assert (outcomes["hurried"], outcomes["patient"]) == ("HURRIED", "PATIENT")
    assert recorder.deadlines[-1] < started + 5
