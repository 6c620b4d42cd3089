"""callerid: recognise returning callers and pop a greeting card on the front-desk screens."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config

from . import database_url
from .extensions import csrf

TOP = Path(__file__).resolve().parent.parent


def create_app(settings: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``settings`` laid on top (tests pass a dict)."""
    merged = {**config.from_env(), **(settings or {})}
    app = Flask(
        __name__,
        instance_path=merged.get("INSTANCE_PATH") or None,
        template_folder=str(TOP / "templates"),
    )
    app.config.update(merged)
    _fill_defaults(app)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("callerid").setLevel(logging.INFO)
    if app.config["CALLERID_TRUSTED_PROXIES"]:
        hops = app.config["CALLERID_TRUSTED_PROXIES"]
        # Flask's documented way to wrap its WSGI app; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    from . import (
        auth,
        board,
        body_size,
        clients,
        db,
        errors,
        gate,
        health,
        manage,
        metrics,
        telephony,
        webhooks,
    )
    from .api import bp as api_bp
    from .cli import register as register_cli
    from .events import gauges as event_gauges
    from .events.stream import bp as events_bp

    body_size.init_app(app)  # first: later hooks read bodies
    gate.init_app(app)  # before the blueprints: their routes need its bounded <int:...>
    db.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    clients.init_app(app)  # after auth: a bearer request is a 401 or its token before this
    errors.init_app(app)
    manage.init_app(app)
    telephony.init_app(app)
    webhooks.init_app(app)
    csrf.exempt(telephony.bp)  # Twilio proves itself by signature, not by a form token.
    csrf.exempt(api_bp)  # the API checks its own: tokens need none, sessions send a header.
    for blueprint in (telephony.bp, health.bp, events_bp, api_bp, board.bp):
        app.register_blueprint(blueprint)
    metrics.init_app(app)  # after the blueprints: it starts each /twilio/* route's counts at 0
    event_gauges.init_app(app)
    register_cli(app)
    return app


def _fill_defaults(app: Flask) -> None:
    """The database file and the secret key live in the instance folder unless configured."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'callerid.sqlite3'}"
    app.config["DATABASE_URL"] = database_url.normalise(app.config["DATABASE_URL"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _kept_secret(instance / "secret_key")
    public = app.config.get("CALLERID_PUBLIC_URL") or ""
    if public.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


def _kept_secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
