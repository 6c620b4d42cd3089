"""How large a request body may be: 64 KiB, refused with 413 before any of it is read.

Twilio's webhooks are under 10 kB, the API's JSON and the forms far less, and CSV import runs on
the command line, so nothing we serve needs more. Without a bound, one anonymous 200 MB POST
grew a worker by about 600 MB and froze it for 5 s (issue 13, finding 4).
"""

from __future__ import annotations

import io
from typing import NoReturn

from flask import Flask, Response, abort, request
from werkzeug.exceptions import RequestEntityTooLarge

DEFAULT_MAX_BYTES = 64 * 1024
TOO_LARGE = "Request body too large."


def init_app(app: Flask) -> None:
    """Bound every request body. Call before anything that registers a hook reading the body
    (CSRFProtect reads the form of every POST): the first hook registered runs first."""
    app.config["MAX_CONTENT_LENGTH"] = app.config.get("CALLERID_MAX_BODY") or DEFAULT_MAX_BYTES
    app.before_request(_refuse_excess)


def _refuse_excess() -> None:
    limit = request.max_content_length
    if limit is None:
        return
    if (
        request.content_length is None
        and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    ):
        _buffer_chunked_body(limit)
    if request.content_length is not None and request.content_length > limit:
        _too_large()


def _buffer_chunked_body(limit: int) -> None:
    # A chunked body announces no length, and Werkzeug would quietly cut it at the limit (so a
    # webhook would fail its signature, and gunicorn would read the rest to find the next
    # request). Read one byte past the limit instead: beyond it, 413 and the worker hangs up;
    # within it, the body is served as if its length had been announced.
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        _too_large()
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["CONTENT_LENGTH"] = str(len(body))
    del request.environ["HTTP_TRANSFER_ENCODING"]


def _too_large() -> NoReturn:
    if request.path.startswith("/twilio/"):
        # Twilio reads no body on an error; plain words for whoever reads the log.
        abort(Response(TOO_LARGE + "\n", 413, mimetype="text/plain"))
    raise RequestEntityTooLarge(TOO_LARGE)
