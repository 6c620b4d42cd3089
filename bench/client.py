"""One HTTP/1.1 request on a connection of its own, from an asyncio loop, answer body included.

``load.py``'s generators read only the status of answers they do not need; a benchmark that
follows a call as Twilio does needs the TwiML, and Twilio opens a connection per request anyway.
No threads: thousands of requests in flight cost sockets, not threads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .twilio import Signed


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 0: no answer (connection refused or reset, or timed out)
    body: bytes = b""


async def post(target: tuple[str, int], signed: Signed, timeout: float) -> Answer:
    """Send the pre-signed request to ``target`` and read the whole answer within ``timeout``."""
    return await _exchange(target, signed.raw, timeout)


async def get(target: tuple[str, int], path: str, token: str, timeout: float) -> Answer:
    """``GET path`` with a bearer token."""
    host, port = target
    raw = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return await _exchange(target, raw, timeout)


async def _exchange(target: tuple[str, int], raw: bytes, timeout: float) -> Answer:
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(*target)
            writer.write(raw)
            return await _read(reader)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        return Answer(0)
    finally:
        if writer is not None:
            writer.close()


async def _read(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length: int | None = None
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if status in (204, 304) or 100 <= status < 200:
        return Answer(status)  # no body, whatever the headers say (RFC 9110)
    if length is None:
        # No length: an answer closed by the server (we asked for Connection: close).
        return Answer(status, await reader.read())
    return Answer(status, await reader.readexactly(length) if length else b"")
