"""Read what a follower hands a stream (``Follower.frames_after``, the SSE bytes the /events
endpoint writes) back into events, so tests see exactly what a screen receives."""

from __future__ import annotations

from typing import NamedTuple

from callerid.events.follower import Follower


class Frame(NamedTuple):
    id: int
    kind: str
    data: str


def events_after(follower: Follower, position: int, timeout: float) -> list[Frame]:
    """The events after ``position`` a stream would write next, oldest first; ``[]`` when none
    arrived within ``timeout`` seconds."""
    _new_position, frames = follower.frames_after(position, timeout)
    return [_parse(block) for block in frames.decode().split("\n\n") if block]


def _parse(block: str) -> Frame:
    fields = dict(line.split(": ", 1) for line in block.splitlines())
    return Frame(int(fields["id"]), fields["event"], fields["data"])
