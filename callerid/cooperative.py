"""Blocking calls that must not stop a gevent worker's other requests.

In a gunicorn gevent worker every request is a greenlet on one OS thread, so a call that blocks
that thread (``fsync``, reading a large file) stops them all: screens, health checks, the
webhook of a caller waiting to be connected. Such calls go to gevent's thread pool there, and
run in place everywhere else (tests, the CLI).
"""

from __future__ import annotations

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


def _under_gevent() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")
