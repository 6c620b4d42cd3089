"""One HTTP POST to an endpoint, to the address that was checked and nowhere else: the host's
addresses are looked up once, each is checked (addresses.py), and the connection goes to that
address with the URL's host name for TLS and the Host header. Redirects are not followed."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError

from .addresses import AddressRefused, Network, check_url, reachable

# Seconds to connect, then to answer. A slow endpoint costs one dispatcher greenlet, never a call.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
EXCERPT = 300


@dataclass(frozen=True, slots=True)
class Answer:
    """What an attempt came to: the status (None when there was no HTTP answer), how long it
    took, and the start of the body or the reason there was none."""

    status: int | None
    latency_ms: int
    excerpt: str

    @property
    def is_success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: Mapping[str, str], allowed: Sequence[Network]) -> Answer:
    """POST ``body`` to ``url``. Never raises: a refused address, a failed look-up, a timeout
    or a broken connection come back as an ``Answer`` without a status."""
    began = time.perf_counter()
    try:
        scheme, host, port = check_url(url)
        address = reachable(scheme, host, port, allowed)[0]
        response = _pool(scheme, address, host, port).urlopen(
            "POST",
            _target(url),
            body=body,
            headers={**headers, "Host": _host_header(scheme, host, port)},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            excerpt = response.read(EXCERPT, decode_content=False).decode("utf-8", "replace")
        finally:
            response.release_conn()
        return Answer(response.status, _since(began), excerpt)
    except AddressRefused as error:
        return Answer(None, _since(began), f"refused: {error}")
    except (HTTPError, OSError) as error:
        return Answer(None, _since(began), f"no answer: {type(error).__name__}: {error}"[:EXCERPT])


def _pool(scheme: str, address: str, host: str, port: int) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, server_hostname=host, assert_hostname=host
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _host_header(scheme: str, host: str, port: int) -> str:
    default = 443 if scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host
    return name if port == default else f"{name}:{port}"


def _since(began: float) -> int:
    return int((time.perf_counter() - began) * 1000)
