"""Who sent a request, as every part of the app treats it: a program (answered in JSON) or a
person (answered with pages), and whether a write comes from our own pages."""

from __future__ import annotations

from flask import Flask, abort, request

# Paths whose clients are programs: the API, the event stream, Twilio, the board's JSON (its
# page is "/"), metrics.
JSON_AREAS = ("/api", "/events", "/twilio", "/board", "/metrics")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wants_json() -> bool:
    """Whether the current request is answered in JSON (its errors and 401s included) rather
    than with a page: a path in ``JSON_AREAS``, or a client that prefers JSON."""
    path = request.path
    in_area = any(path == area or path.startswith(area + "/") for area in JSON_AREAS)
    return in_area or request.accept_mimetypes.best == "application/json"


def sends_bearer() -> bool:
    """Whether the request carries ``Authorization: Bearer``: a program's credential, which a
    browser never adds by itself (``auth`` answers 401 for one that is not live)."""
    return request.headers.get("Authorization", "").partition(" ")[0].lower() == "bearer"


def refuse_cross_origin_writes() -> None:
    """403 for a write (any method but GET, HEAD and OPTIONS) whose ``Origin`` is another site.
    CSRFProtect checks the form token (the API a header) as well; this is the second lock, for
    every route at once. Bearer-token requests carry no ambient credentials and are let by."""
    if request.method in SAFE_METHODS or sends_bearer():
        return
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403, description="Cross-origin request refused.")


def init_app(app: Flask) -> None:
    app.before_request(refuse_cross_origin_writes)
