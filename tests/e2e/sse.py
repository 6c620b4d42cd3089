"""A small Server-Sent Events reader for tests: what a browser's EventSource would see."""

from __future__ import annotations

import json
import queue
import threading
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
        while True:
            message = self.messages.get(timeout=timeout)
            if not events_only or not message.comment:
                return message

    def events(self, count: int, timeout: float = 10) -> list[Message]:
        """The next ``count`` call events (skipping stream.open and comments)."""
        found: list[Message] = []
        while len(found) < count:
            message = self.next(timeout)
            if message.event != "stream.open":
                found.append(message)
        return found

    def close(self) -> None:
        self.response.close()
