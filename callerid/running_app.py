"""The app behind Flask's ``current_app`` proxy, for work that outlives the request (a
background greenlet, a thread, the spool) and so cannot use the proxy."""

from __future__ import annotations

from flask import Flask, current_app


def running_app() -> Flask:
    """The app handling this request or command."""
    # Flask types current_app as the app itself; LocalProxy's _get_current_object is untyped.
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app
