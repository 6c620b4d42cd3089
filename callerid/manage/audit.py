"""Manager pages: audit (views register on manage.bp)."""

from __future__ import annotations

from . import bp  # noqa: F401
