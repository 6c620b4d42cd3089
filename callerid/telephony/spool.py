"""The instance's spool: what a Twilio webhook carried, kept on disk while the database cannot
take it, and applied in order once it can.

Twilio gives up on a callback within 15 s, so an outage longer than that is carried by this file,
not by Twilio's retries. A webhook is "stored" once it is committed to the database or appended
here and fsynced; only then is it acknowledged.

One append-only file of JSON lines per instance folder (mode 0600), shared by every worker and
instance that uses the folder: each append holds an exclusive ``flock`` on the file. A replayer
takes the file away whole (renamed under the same lock, so no append can land in it afterwards)
and applies its entries one by one; what it could not apply stays in front of what arrived
meanwhile (merged behind it at the next replay). Applying an entry twice is harmless (every
webhook is idempotent per CallSid and a call never moves back), so a crash between applying and
deleting repeats work and loses nothing.

Under gevent a blocking ``flock`` or a read of a big file would stop every request of the worker,
so the lock is waited for with short sleeps (cooperative), a replay that applied nothing rewrites
nothing (the replayer does not even read the spool until the database answers), and ``depth``
counts only what was appended since it last looked.

Over 300 lines because the file format, its lock and the line counter must change together:
split, a change to one could no longer be checked against the others in one read.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ..cooperative import off_the_loop

FILE = "pending.jsonl"
TAKEN = "applying.jsonl"
LOCK = "replay.lock"
# Entries that can never be applied (a bug, or data the database refuses): kept for a person.
FAILED = "failed.jsonl"
log = logging.getLogger(__name__)
# 64 MiB holds about 60,000 webhooks (Twilio's forms are about 1 KiB): hours of a busy line.
DEFAULT_BUDGET = 64 * 1024 * 1024
# Waits for another process's hold of the spool's lock: short first, as holds last an fsync.
_LOCK_SLEEPS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02)
# Far longer than any hold by an append (a process's appends share one hold and one fsync,
# so only a few processes ever queue for it); past it, something is stuck.
LOCK_WAIT = 2.0


class SpoolFull(OSError):
    """The spool has reached its disk budget: nothing more is accepted until it drains."""


class SpoolLocked(OSError):
    """Another process has held the spool's lock for too long (a stuck disk or mount)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One webhook as it arrived: its route ("voice", "status", "dial", "voicemail"), its
    parameters and when it arrived."""

    route: str
    form: Mapping[str, str]
    received_at: datetime

    def to_line(self) -> bytes:
        data = {"route": self.route, "form": dict(self.form), "at": self.received_at.isoformat()}
        return (json.dumps(data, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_line(cls, line: bytes) -> Entry:
        data = json.loads(line)
        at = datetime.fromisoformat(data["at"])
        return cls(data["route"], data["form"], at if at.tzinfo else at.replace(tzinfo=UTC))


class Spool:
    """The spool in ``folder`` (created on first use), holding at most ``budget`` bytes."""

    def __init__(self, folder: Path, budget: int = DEFAULT_BUDGET) -> None:
        self.folder = folder
        self.budget = budget
        self._counted = _LineCounter()

    @property
    def path(self) -> Path:
        return self.folder / FILE

    def append(self, entry: Entry) -> None:
        """Write ``entry`` and fsync it; raise ``OSError`` (``SpoolFull`` past the budget) when
        it could not be kept."""
        (refused,) = self.append_many([entry])
        if refused is not None:
            raise refused

    def append_many(self, entries: list[Entry]) -> list[OSError | None]:
        """Write ``entries`` under one hold of the lock and one fsync: for each, None once it is
        kept, or ``SpoolFull`` when it would pass the budget. Raises ``OSError`` (none kept)
        when the file cannot be written or its lock is held too long."""
        lines = [entry.to_line() for entry in entries]
        with self._locked_file() as fd:
            size = os.fstat(fd).st_size
            room = self.budget - size - self._taken_size()
            kept: list[bytes] = []
            outcomes: list[OSError | None] = []
            for line in lines:
                if len(line) > room:
                    outcomes.append(SpoolFull(f"the spool in {self.folder} is full"))
                    continue
                room -= len(line)
                kept.append(line)
                outcomes.append(None)
            if kept:
                try:
                    _write_all(fd, b"".join(kept))
                    off_the_loop(os.fsync, fd)
                except OSError:
                    os.ftruncate(fd, size)  # no half line for the next entry to be glued to
                    raise
        return outcomes

    def set_aside(self, entries: list[Entry]) -> None:
        """Keep entries that can never be applied in ``failed.jsonl``, out of the way."""
        fd = os.open(self.folder / FAILED, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _write_all(fd, b"".join(entry.to_line() for entry in entries))
            off_the_loop(os.fsync, fd)
        finally:
            os.close(fd)

    def depth(self) -> int:
        """How many entries wait to be applied."""
        if not self.folder.exists():
            return 0
        # Under the lock a replayer takes the file under: no entry is seen in both.
        with self._locked_file():
            return sum(self._counted.lines(p) for p in (self.folder / TAKEN, self.path))

    def replay(self, apply: Callable[[list[Entry]], int]) -> int:
        """Hand the waiting entries, oldest first, to ``apply``, which applies them in order and
        says how many it applied (it stops at the first it cannot: the database is still
        away). Those are removed; the rest wait. What is spooled meanwhile waits for the next
        call (``apply`` may spool an entry again, to be tried later). Returns how many were
        applied: 0 at once when another process is replaying.

        Call it when the database takes writes again: each call reads the whole spool."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.folder / LOCK, "a") as guard:
            if not _try_flock(guard.fileno()):
                return 0
            taken = self._take()
            if taken is None:
                return 0
            entries, torn = _entries(off_the_loop(taken.read_bytes))
            done = 0
            try:
                done = apply(entries)
            finally:
                if done or torn:  # else the file holds just what it held: no rewrite
                    self._keep(taken, entries[done:])
            return done

    def _take(self) -> Path | None:
        """The file of entries to apply, with everything spooled so far: what an interrupted
        replay left (older) followed by the current file, taken away whole under its lock."""
        taken = self.folder / TAKEN
        with self._locked_file() as fd:
            if os.fstat(fd).st_size:
                if taken.exists():
                    off_the_loop(_append_file, self.path, taken)
                    os.unlink(self.path)
                else:
                    os.rename(self.path, taken)
                _sync_folder(self.folder)
        return taken if taken.exists() else None

    def _keep(self, taken: Path, rest: list[Entry]) -> None:
        if not rest:
            taken.unlink(missing_ok=True)
            return
        scratch = taken.with_suffix(".tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, b"".join(entry.to_line() for entry in rest))
            off_the_loop(os.fsync, fd)
        finally:
            os.close(fd)
        os.replace(scratch, taken)
        _sync_folder(self.folder)

    def _taken_size(self) -> int:
        try:
            return (self.folder / TAKEN).stat().st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def _locked_file(self) -> Iterator[int]:
        """The current spool file, opened for appending and locked; reopened when a replayer
        renamed it away between our open and our lock."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        while True:
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if created:
                _sync_folder(self.folder)  # the new file's name survives a power cut too
            try:
                _flock(fd)
                if _same_file(fd, self.path):
                    yield fd
                    return
            finally:
                os.close(fd)  # closing also releases the lock


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _flock(fd: int) -> None:
    """Take the lock on ``fd``, sleeping between tries: under gevent, sleeping lets the
    worker's other requests run, where ``flock``'s own wait would stop them all. Raises
    ``SpoolLocked`` after ``LOCK_WAIT`` seconds: a hold that long is not an append's."""
    deadline = time.monotonic() + LOCK_WAIT
    for attempt in itertools.count():
        if _try_flock(fd):
            return
        if time.monotonic() >= deadline:
            raise SpoolLocked(f"the spool's lock has been held for over {LOCK_WAIT} s")
        time.sleep(_LOCK_SLEEPS[min(attempt, len(_LOCK_SLEEPS) - 1)])


def _write_all(fd: int, data: bytes) -> None:
    # os.write may write less than asked (a nearly full disk) without raising.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _append_file(source: Path, target: Path) -> None:
    with open(target, "ab") as older:
        older.write(source.read_bytes())
        older.flush()
        os.fsync(older.fileno())


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        off_the_loop(os.fsync, fd)
    finally:
        os.close(fd)


def _entries(data: bytes) -> tuple[list[Entry], int]:
    """The entries of a spool file, and how many lines could not be read: a line torn by a
    crash mid-write (before its webhook was answered) is skipped, and said."""
    entries, torn = [], 0
    for number, line in enumerate(data.splitlines(), start=1):
        if not line:
            continue
        try:
            entries.append(Entry.from_line(line))
        except (ValueError, KeyError) as error:
            torn += 1
            log.error("spool line %d cannot be read, skipped: %s", number, error)
    return entries, torn


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


class _LineCounter:
    """Lines in spool files, read once: a file seen before is counted on from where the last
    count stopped, if it still holds what was counted (same file, the same last bytes there;
    a new file can get the inode number of the one taken away)."""

    def __init__(self) -> None:
        # path -> (dev, inode, size, lines, the last bytes counted)
        self._seen: dict[Path, tuple[int, int, int, int, bytes]] = {}
        self._lock = threading.Lock()

    def lines(self, path: Path) -> int:
        try:
            with path.open("rb") as file:
                found = off_the_loop(self._count, path, file)
        except FileNotFoundError:
            with self._lock:
                self._seen.pop(path, None)
            return 0
        with self._lock:
            self._seen[path] = found
        return found[3]

    def _count(self, path: Path, file: BinaryIO) -> tuple[int, int, int, int, bytes]:
        now = os.fstat(file.fileno())
        with self._lock:
            dev, ino, size, lines, tail = self._seen.get(path, (0, 0, 0, 0, b""))
        if (dev, ino) != (now.st_dev, now.st_ino) or now.st_size < size:
            size, lines, tail = 0, 0, b""
        elif tail:
            file.seek(size - len(tail))
            if file.read(len(tail)) != tail:
                size, lines, tail = 0, 0, b""  # another file under the same number
        file.seek(size)
        for chunk in iter(lambda: file.read(1 << 16), b""):
            lines += chunk.count(b"\n")
            size += len(chunk)
            tail = (tail + chunk)[-_TAIL:]
        return now.st_dev, now.st_ino, size, lines, tail


# How many of the last bytes counted tell one spool file from another: each line ends with
# the time its webhook arrived, to the microsecond.
_TAIL = 64
