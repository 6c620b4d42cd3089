"""GET /metrics: the Prometheus text format, for the allow-list or a metrics token."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask_login import current_user
from werkzeug.datastructures import WWWAuthenticate

from ..auth import bearer_token
from . import access, exposition

bp = Blueprint("metrics", __name__)
ALLOW_KEY = "callerid.metrics.allow"


@bp.get("/metrics")
def scrape() -> Response:
    _check_access()
    body = exposition.render(current_app)
    response = Response(body, content_type=exposition.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_access() -> None:
    """Pass an allow-listed address or a live metrics token; 403 for anyone else who proved
    who they are (a user token, a session), 401 for everyone else."""
    if access.is_allowed(request.remote_addr, current_app.extensions[ALLOW_KEY]):
        return
    token = bearer_token(request)
    if token is not None and token.kind == "metrics":
        return
    if token is not None or current_user.is_authenticated:
        abort(403, description="/metrics takes a token of kind metrics, not a login's token.")
    abort(
        401,
        description="Send Authorization: Bearer <a metrics token>.",
        www_authenticate=WWWAuthenticate("bearer"),
    )
