"""One JSON shape for every API error; friendly pages for people; overload told apart.

An overloaded database (pool exhausted, statement or lock timeout, no connection) answers 503 with
Retry-After, and is logged in one line, at most once a second per kind, with a count of the
others: under overload, a traceback per failed request costs more CPU than the request did.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, ServiceUnavailable

from .clients import wants_json

log = logging.getLogger(__name__)
RETRY_AFTER = 2  # seconds; SSE clients retry after 2 s too
QUIET_SECONDS = 1.0  # one overload line per kind and logger per second


class BadField(BadRequest):
    """A 400 naming the field of the request it refuses; the JSON error carries it as
    ``field``, so that a program can tell which of its values to fix."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(description=description)
        self.field = field


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(PoolTimeout, _overload_error)
    app.register_error_handler(OperationalError, _overload_error)


def is_overload(error: BaseException) -> bool:
    """Whether ``error`` says the database is busy or out of reach, rather than a bug: pool
    timeout, statement or lock timeout, a lost or refused connection, SQLite busy."""
    if isinstance(error, PoolTimeout | TimeoutError):  # TimeoutError: a batch waited too long
        return True
    original = getattr(error, "orig", error)
    module = type(original).__module__
    if module.startswith("psycopg"):
        import psycopg

        return isinstance(original, psycopg.OperationalError)
    if module == "sqlite3":
        text = str(original).lower()
        return "locked" in text or "busy" in text
    return False


class FailureLog:
    """Overload failures in few lines: one per kind (logger and error type) per ``quiet``
    seconds, at most ``per_second`` lines a second in all; the ones held back are counted and
    told in a closing line "(and N more like it)" ``close_after`` seconds later, even when no
    failure follows. So every failure is accounted for, and a burst costs a few lines."""

    def __init__(
        self, quiet: float = QUIET_SECONDS, per_second: int = 10, close_after: float = 2.0
    ) -> None:
        self.quiet, self.per_second, self.close_after = quiet, per_second, close_after
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}
        self._second, self._lines = 0.0, 0
        # kind -> (logger, the last line held back, how many were held back)
        self._held: dict[tuple[str, str], tuple[logging.Logger, str, int]] = {}
        self._closing: threading.Timer | None = None

    def log(
        self,
        logger: logging.Logger,
        line: str,
        kind: tuple[str, str],
        traceback: BaseException | None = None,
    ) -> None:
        """Log ``line`` now, or count it into the closing line of its ``kind``. A
        ``traceback`` is logged with the line (at ERROR) when the line itself is logged."""
        now = time.monotonic()
        with self._lock:
            if now - self._second >= 1.0:
                self._second, self._lines = now, 0
            quiet = now - self._last.get(kind, -self.quiet) < self.quiet
            if quiet or self._lines >= self.per_second:
                _, _, held = self._held.get(kind, (logger, line, 0))
                self._held[kind] = (logger, line, held + 1)
                self._close_soon()
                return
            self._last[kind] = now
            self._lines += 1
        if traceback is None:
            logger.warning("%s", line)
        else:
            logger.error("%s", line, exc_info=traceback)

    def _close_soon(self) -> None:
        if self._closing is None:
            self._closing = threading.Timer(self.close_after, self.close)
            self._closing.daemon = True
            self._closing.start()

    def forget(self) -> None:
        """Drop what was held back, untold (a test that ends)."""
        with self._lock:
            timer, self._held, self._closing = self._closing, {}, None
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        """Tell what was held back, now."""
        with self._lock:
            held, self._held, self._closing = self._held, {}, None
        for logger, line, count in held.values():
            more = f" (and {count - 1} more like it)" if count > 1 else ""
            logger.warning("%s%s", line, more)


failures = FailureLog()


def log_failure(logger: logging.Logger, message: str, error: BaseException) -> None:
    """Log a failure in few counted lines (``FailureLog``): overload in one line each, anything
    else (a bug, data the database refuses) with its traceback."""
    kind = (logger.name, type(getattr(error, "orig", None) or error).__name__)
    if not is_overload(error):
        failures.log(logger, message, kind, traceback=error)
        return
    failures.log(logger, f"{message}: {summary(error)}", kind)


def summary(error: BaseException) -> str:
    """The error's type and first line, without the SQL and parameters SQLAlchemy appends."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).strip().splitlines() or [""])[0][:200]
    return f"{type(original).__name__}: {first_line}"


def _overload_error(error: Exception) -> ResponseReturnValue:
    if not is_overload(error):
        raise error  # a bug, not a busy database: the usual 500 and traceback
    log_failure(log, f"database overloaded on {request.method} {request.path}", error)
    return http_error(
        ServiceUnavailable(
            description="The database is busy; retry in a moment.", retry_after=RETRY_AFTER
        )
    )


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    # Flask-WTF says 400; the request is well formed, its sender is just not allowed: 403, like a
    # cross-origin write.
    return http_error(Forbidden(description=f"CSRF check failed: {error.description}"))


def http_error(error: HTTPException) -> ResponseReturnValue:
    """The error as JSON (``{"error": {"code", "name", "message"}}``) where a program asks, as a
    page where a person does."""
    code = error.code or 500
    if wants_json():
        body = {"error": {"code": code, "name": error.name, "message": error.description}}
        if isinstance(error, BadField):
            body["error"]["field"] = error.field
        return jsonify(body), code, _extra_headers(error)
    return render_template("errors/error.html", error=error), code, _extra_headers(error)


def _extra_headers(error: HTTPException) -> dict[str, str]:
    response = error.get_response()
    return {
        k: v
        for k, v in response.headers.items()
        if k.lower() in {"allow", "retry-after", "www-authenticate"}
    }
