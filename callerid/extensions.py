"""The Flask extensions the app shares, made here so blueprints can use them without importing
the app factory (which imports every blueprint: that would be a cycle)."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
