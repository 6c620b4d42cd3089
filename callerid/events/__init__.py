"""Events screens hear about: stored in one table (store), streamed as SSE (stream)."""

from .store import StoredEvent, append, latest_position, prune, since

__all__ = ["StoredEvent", "append", "latest_position", "prune", "since"]
