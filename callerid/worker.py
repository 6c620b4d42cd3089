"""gunicorn's gevent worker, with bounds on what one slow or greedy client can hold.

gunicorn has no deadline for reading a request (issue 13, finding 1: 2,100 clients sending a
body a byte every 2 s held every connection slot, and Twilio's webhooks timed out). This worker
adds three bounds, set by config/__init__.py's settings and named in config/gunicorn.conf.py:

- headers: the request line and headers, and the wait for the next request on a kept-alive
  connection, within ``CALLERID_HEADER_TIMEOUT`` seconds (10), else the connection is closed;
- body: the whole body within ``CALLERID_BODY_TIMEOUT`` seconds (30) of the headers, else 408;
- connections: at most ``CALLERID_CONNECTIONS_PER_ADDRESS`` open at once per client address in
  each worker process, beyond which a connection is answered 429 and closed. The addresses
  gunicorn trusts as proxies (``forwarded_allow_ips``, loopback by default) are exempt: behind
  nginx every client has its address.

After a 408 or 413 the connection is closed instead of read on: gunicorn would otherwise read
the rest of a refused body to find the next request.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker
from werkzeug.exceptions import RequestTimeout

import config

WSGIApp = Callable[[MutableMapping[str, Any], Callable[..., Any]], Iterable[bytes]]
# Answers after which the rest of the request is not worth reading.
CLOSE_AFTER = ("408", "413")
_SAYS = b"Too many connections from your address.\n"
REFUSED = (
    b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(_SAYS), _SAYS)
)


class Worker(GeventWorker):
    """The gevent worker with header and body deadlines and a per-address connection cap."""

    def init_process(self) -> None:
        settings = config.from_env()
        self.header_timeout = settings["CALLERID_HEADER_TIMEOUT"]
        self.body_timeout = settings["CALLERID_BODY_TIMEOUT"]
        self.per_address = settings["CALLERID_CONNECTIONS_PER_ADDRESS"]
        self.open_per_address: Counter[str] = Counter()
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = bounded(self.wsgi, self.body_timeout)

    # gunicorn's GeventWorker.timeout_ctx returns a Timeout too; types-gunicorn says None.
    def timeout_ctx(self) -> gevent.Timeout:  # type: ignore[override]
        # gunicorn reads each request's line and headers (and waits for the next request of a
        # kept-alive connection) inside this; False: the connection just closes when it fires.
        return _quiet_timeout(self.header_timeout)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        address = addr[0] if isinstance(addr, tuple) else ""
        if self._is_capped(address) and self.open_per_address[address] >= self.per_address:
            refuse(client)
            return
        self.open_per_address[address] += 1
        try:
            super().handle(listener, client, addr)
        finally:
            self.open_per_address[address] -= 1
            if not self.open_per_address[address]:
                del self.open_per_address[address]

    def _is_capped(self, address: str) -> bool:
        if not address or self.per_address <= 0:
            return False
        trusted = self.cfg.forwarded_allow_ips
        if "*" in trusted:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False  # a unix socket: a local proxy
        return not any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def refuse(client: Any) -> None:
    """Answer a connection over its address's cap with 429 and close it, reading nothing."""
    try:
        with _quiet_timeout(1):
            client.sendall(REFUSED)
    except OSError:
        pass
    finally:
        client.close()


def _quiet_timeout(seconds: float) -> gevent.Timeout:
    """A Timeout that ends its ``with`` block silently instead of raising when it fires."""
    # gevent documents exception=False for exactly this; types-gevent's stub leaves it out.
    return gevent.Timeout(seconds, False)  # type: ignore[arg-type]


def bounded(app: WSGIApp, body_timeout: float) -> WSGIApp:
    """Wrap ``app`` so that its request body must arrive within ``body_timeout`` seconds, and so
    that gunicorn closes the connection after a status in ``CLOSE_AFTER``.

    gunicorn drops a ``Connection: close`` header set by the application, so the wrapper asks
    gunicorn's own response object, whose method ``start_response`` is."""

    def wsgi(
        environ: MutableMapping[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        deadline = time.monotonic() + body_timeout
        environ["wsgi.input"] = DeadlineInput(environ["wsgi.input"], deadline)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status[:3] in CLOSE_AFTER:
                response = getattr(start_response, "__self__", None)
                if response is not None and hasattr(response, "force_close"):
                    response.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wsgi


class DeadlineInput:
    """A request body whose reads all end by ``deadline`` (``time.monotonic()``): past it, a
    read raises Werkzeug's ``RequestTimeout``, which the app answers with 408."""

    def __init__(self, stream: Any, deadline: float) -> None:
        self.stream, self.deadline = stream, deadline

    def read(self, size: int | None = -1) -> bytes:
        return self._bounded(self.stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._bounded(self.stream.readline, size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return self._bounded(self.stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def _bounded(self, method: Callable[..., Any], *args: Any) -> Any:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimeout("The request body came too slowly.")
        timeout = gevent.Timeout(remaining)
        timeout.start()
        try:
            return method(*args)
        except gevent.Timeout as fired:
            if fired is not timeout:
                raise
            raise RequestTimeout("The request body came too slowly.") from None
        finally:
            timeout.close()
