"""The bytes of the Server-Sent Events format, built once per event per process."""

from __future__ import annotations

from .store import StoredEvent

# Sent at once so the screen knows it is connected; browsers retry 2 s after a cut.
RETRY_MS = 2000
HEARTBEAT = b": heartbeat\n\n"


def opening(position: int) -> bytes:
    """The first frame of every stream: reconnect advice and the position it starts from."""
    return f'retry: {RETRY_MS}\nevent: stream.open\ndata: {{"position": {position}}}\n\n'.encode()


def frame(event: StoredEvent) -> bytes:
    """One stored event as a frame; its id is what the browser sends back as Last-Event-ID."""
    return f"id: {event.id}\nevent: {event.kind}\ndata: {event.data}\n\n".encode()


def count(frames: bytes) -> int:
    """How many events ``frames`` (one or more joined ``frame`` results) holds: each ends in the
    one blank line of its frame, since ``data`` is JSON on a single line."""
    return frames.count(b"\n\n")
