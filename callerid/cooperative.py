"""Blocking calls that must not stop a gevent worker's other requests.

In a gunicorn gevent worker every request is a greenlet on one OS thread, so a call that blocks
that thread (``fsync``, reading a large file) stops them all: screens, health checks, the
webhook of a caller waiting to be connected. Such calls go to gevent's thread pool there, and
run in place everywhere else (tests, the CLI).
"""

from __future__ import annotations

import select
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def off_the_loop(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``, in gevent's thread pool when gevent runs this process, else here."""
    if _under_gevent():
        import gevent

        return gevent.get_hub().threadpool.apply(work, args)
    return work(*args)


def wait_readable(fd: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``fd`` to have something to read; whether it has.
    In a gevent greenlet only that greenlet waits (the hub watches the descriptor), so the
    worker's other requests go on; in an OS thread the thread waits."""
    if _in_greenlet():
        from gevent.select import select as cooperative_select

        ready, _, _ = cooperative_select([fd], [], [], timeout)
    else:
        ready, _, _ = select.select([fd], [], [], timeout)
    return bool(ready)


def _in_greenlet() -> bool:
    # A gevent worker's threads are greenlets (threading is patched), and so is anything
    # gevent.spawn runs; an OS thread's own greenlet is not a gevent.Greenlet.
    gevent = sys.modules.get("gevent")
    return gevent is not None and isinstance(gevent.getcurrent(), gevent.Greenlet)


def _under_gevent() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")
