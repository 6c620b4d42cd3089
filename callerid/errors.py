"""One JSON shape for every API error; friendly pages for people."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    # Flask-WTF says 400; the request is well formed, its sender is just not allowed: 403, like a
    # cross-origin write.
    return _http_error(Forbidden(description=f"CSRF check failed: {error.description}"))


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if (
        request.path.startswith(("/api", "/events", "/twilio", "/board/"))
        or request.accept_mimetypes.best == "application/json"
    ):
        body = {"error": {"code": code, "name": error.name, "message": error.description}}
        return jsonify(body), code, _extra_headers(error)
    return render_template("errors/error.html", error=error), code, _extra_headers(error)


def _extra_headers(error: HTTPException) -> dict[str, str]:
    response = error.get_response()
    return {k: v for k, v in response.headers.items() if k.lower() in {"allow", "retry-after"}}
