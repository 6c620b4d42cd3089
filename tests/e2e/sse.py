"""A small Server-Sent Events reader for tests: what a browser's EventSource would see."""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class Message:
    id: int | None
    event: str
    data: Any
    comment: str = ""


class Stream:
    """Opens /events in a background thread and queues every message and comment."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.response = requests.get(url, headers=headers or {}, stream=True, timeout=(5, 30))
        # http.client's socket under the response (requests and urllib3 expose no public name
        # for it); without it, close() still works, only slower.
        try:
            self._socket: socket.socket | None = self.response.raw._fp.fp.raw._sock
        except AttributeError:
            self._socket = None
        self.messages: queue.Queue[Message] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw is None:
                    continue
                if raw.startswith(":"):
                    self.messages.put(Message(None, "", None, comment=raw[1:].strip()))
                elif raw == "":
                    if "data" in fields:
                        self.messages.put(
                            Message(
                                int(fields["id"]) if "id" in fields else None,
                                fields.get("event", "message"),
                                json.loads(fields["data"]),
                            )
                        )
                    fields = {}
                else:
                    name, _, value = raw.partition(":")
                    fields[name] = value.removeprefix(" ")
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, AttributeError):
            pass

    def next(self, timeout: float = 10, events_only: bool = True) -> Message:
        """The next message (event, or comment too unless ``events_only``) within ``timeout``
        seconds; heartbeats do not extend the wait. Raises ``queue.Empty`` past it."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if not events_only or not message.comment:
                return message

    def events(self, count: int, timeout: float = 10) -> list[Message]:
        """The next ``count`` call events (skipping stream.open and comments), all within
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        found: list[Message] = []
        while len(found) < count:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if message.event != "stream.open":
                found.append(message)
        return found

    def close(self) -> None:
        # The reader thread, blocked in recv, holds the buffer's lock: a plain close would wait
        # for the next heartbeat. Shutting the socket down wakes it at once.
        if self._socket is not None:
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.response.close()
