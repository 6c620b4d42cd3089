"""Database connections per process: a pool whose queue of waiting requests is bounded and
counted, and whose size is fitted to what PostgreSQL accepts.

PostgreSQL refuses connections beyond ``max_connections``; a process that meets that refusal in
a burst cannot record calls at all, so every process of every instance is sized at start to stay
at least ``HEADROOM`` below it (docs/deployment.md gives the sum). Requests beyond the pool wait
in its queue, up to ``CALLERID_DB_TIMEOUT``; when ``CALLERID_DB_QUEUE`` of them wait already,
another is turned away at once: a webhook then spools what it carried instead of waiting
(telephony/batches.py does not retry it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

log = logging.getLogger(__name__)

# Connections left free below max_connections for psql, backups and migrations.
HEADROOM = 5
# Connections a process holds beside its pool: LISTEN, and the sequencer candidate's own.
BESIDE_THE_POOL = 2
# The fewest pooled connections a process can work with: one for a webhook's batch, one for
# anything else (a page, the replayer).
FEWEST = 2


class QueueFull(exc.TimeoutError):
    """Too many requests of this process wait for a connection already; this one does not
    join them. Callers treat it as the pool's own timeout (spool, fail open, 503)."""


class CountedPool(QueuePool):
    """A ``QueuePool`` that knows how many wait for a connection, and turns away newcomers once
    ``max_waiting`` wait. ``watch`` is told of each change (+1 / -1) and each refusal."""

    # Log as SQLAlchemy's own pool does (quiet below WARNING), not as a callerid module.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.QueuePool"

    def __init__(self, creator: Any, *, max_waiting: int = 100, **options: Any) -> None:
        super().__init__(creator, **options)
        self.max_waiting = max_waiting
        self.waiting = 0
        self.watch: PoolWatch = PoolWatch()
        self._counting = threading.Lock()
        # QueuePool._do_get calls itself again when it lost a race for an overflow slot: one
        # request, counted once (per thread, per greenlet under gevent).
        self._inside = threading.local()

    def _do_get(self) -> Any:
        if getattr(self._inside, "counted", False) or not self._exhausted():
            return super()._do_get()
        with self._counting:
            if self.waiting >= self.max_waiting:
                self.watch.refused("full")
                raise QueueFull(
                    f"{self.waiting} requests of this process already wait for a database "
                    f"connection (CALLERID_DB_QUEUE is {self.max_waiting})"
                )
            self.waiting += 1
        self._inside.counted = True
        try:
            self.watch.waiting(+1)
            return super()._do_get()
        except QueueFull:
            raise
        except exc.TimeoutError:
            self.watch.refused("timeout")
            raise
        finally:
            self._inside.counted = False
            with self._counting:
                self.waiting -= 1
            self.watch.waiting(-1)

    def _exhausted(self) -> bool:
        # Racy by design: a miss only means one wait goes uncounted or counts briefly.
        return self._pool.empty() and self._overflow >= self._max_overflow

    def recreate(self) -> CountedPool:
        return self.resized(self._pool.maxsize, self._max_overflow)

    def resized(self, pool_size: int, max_overflow: int) -> CountedPool:
        """A new pool like this one (same connect hooks and listeners) with other sizes."""
        pool = CountedPool(
            self._creator,
            max_waiting=self.max_waiting,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pre_ping=self._pre_ping,
            use_lifo=self._pool.use_lifo,
            timeout=self._timeout,
            recycle=self._recycle,
            echo=self.echo,
            logging_name=self._orig_logging_name,
            reset_on_return=self._reset_on_return,
            _dispatch=self.dispatch,
            dialect=self._dialect,
        )
        pool.watch = self.watch
        return pool


@dataclass
class PoolWatch:
    """Where a pool reports its queue (the metrics set these); by default, nowhere."""

    waiting: Callable[[int], None] = lambda change: None
    refused: Callable[[str], None] = lambda why: None


class PoolDoesNotFit(RuntimeError):
    """Even the smallest pools would exceed PostgreSQL's max_connections."""


@dataclass(frozen=True, slots=True)
class Fit:
    """How a process's pool was sized against the server's limit."""

    max_connections: int
    reserved: int
    processes: int  # every worker of every instance
    pool_size: int
    max_overflow: int

    @property
    def total(self) -> int:
        """Connections every process together may hold at most."""
        return self.processes * (self.pool_size + self.max_overflow + BESIDE_THE_POOL)

    def describe(self) -> str:
        return (
            f"{self.processes} process(es) x ({self.pool_size} + {self.max_overflow} pooled + "
            f"{BESIDE_THE_POOL}) = {self.total} connections, PostgreSQL allows "
            f"{self.max_connections} ({self.reserved} reserved, {HEADROOM} kept free)"
        )


def fit(limit: int, reserved: int, processes: int, pool_size: int, max_overflow: int) -> Fit:
    """The largest pools up to ``pool_size + max_overflow`` per process that keep every
    process's connections ``HEADROOM`` below ``limit - reserved``: the overflow gives way first.
    Raises ``PoolDoesNotFit`` when even ``FEWEST`` per process would not."""
    each = (limit - reserved - HEADROOM) // processes - BESIDE_THE_POOL
    if each < FEWEST:
        needed = processes * (FEWEST + BESIDE_THE_POOL) + reserved + HEADROOM
        raise PoolDoesNotFit(
            f"PostgreSQL's max_connections ({limit}) is too small for {processes} callerid "
            f"process(es) (CALLERID_INSTANCES x gunicorn workers): it needs at least {needed}. "
            "Raise max_connections, or run fewer instances or workers"
        )
    size = min(pool_size, each)
    return Fit(limit, reserved, processes, size, min(max_overflow, each - size))


def fit_engine(engine: Engine, processes: int) -> Fit | None:
    """Size ``engine``'s pool for ``processes`` processes sharing its PostgreSQL server, and say
    so in the log. None, and the pool unchanged, for SQLite or a server that cannot be asked."""
    pool = engine.pool
    if engine.dialect.name != "postgresql" or not isinstance(pool, CountedPool):
        return None
    try:
        limit, reserved = _limits(engine)
    except exc.SQLAlchemyError as error:
        log.warning("could not read max_connections (%s); pools stay as configured", error)
        return None
    finally:
        engine.dispose()  # no connection of the master's may be inherited by the workers
    found = fit(limit, reserved, processes, pool.size(), pool._max_overflow)
    if (found.pool_size, found.max_overflow) != (pool.size(), pool._max_overflow):
        log.warning(
            "database pools cut from %d + %d to %d + %d per process: %s",
            pool.size(),
            pool._max_overflow,
            found.pool_size,
            found.max_overflow,
            found.describe(),
        )
        engine.pool = pool.resized(found.pool_size, found.max_overflow)
    return found


def _limits(engine: Engine) -> tuple[int, int]:
    """max_connections, and the connections reserved for superusers and roles with
    pg_use_reserved_connections (PostgreSQL 16), which callerid cannot use."""
    with engine.connect() as connection:
        settings: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
                )
            )
            .tuples()
            .all()
        )
    reserved = int(settings.get("superuser_reserved_connections", 0))
    return int(settings["max_connections"]), reserved + int(settings.get("reserved_connections", 0))
