"""GET /webhooks (managers): outbound webhook endpoints, each with its delivery log.

Changes are POST forms answered with a redirect and a flash, except creating an endpoint and
rotating its secret, which answer with a page showing the secret once (never cached)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import db
from ..auth import manager_required
from ..models import WebhookEndpoint
from ..webhooks import delivery, endpoints, payloads
from . import bp
from .writes import refused, saved, sentence


@bp.get("/webhooks", endpoint="webhooks")
@manager_required
def webhooks_page() -> ResponseReturnValue:
    return render_template(
        "manage/webhooks/index.html",
        listed=endpoints.every(db.session()),
        event_types=payloads.EVENT_TYPES,
    )


@bp.post("/webhooks", endpoint="webhooks_create")
@manager_required
def webhooks_create() -> ResponseReturnValue:
    with refused(url_for("manage.webhooks"), endpoints.InvalidEndpoint, say=sentence):
        endpoint = endpoints.create(db.session(), _form(), _allowed(), by=_me())
    db.session().commit()
    return _secret(endpoint, "Endpoint added")


@bp.get("/webhooks/<int:endpoint_id>", endpoint="webhooks_show")
@manager_required
def webhooks_show(endpoint_id: int) -> ResponseReturnValue:
    endpoint = _endpoint(endpoint_id)
    return render_template(
        "manage/webhooks/show.html",
        endpoint=endpoint,
        event_types=payloads.EVENT_TYPES,
        log=endpoints.deliveries(db.session(), endpoint),
    )


@bp.post("/webhooks/<int:endpoint_id>", endpoint="webhooks_update")
@manager_required
def webhooks_update(endpoint_id: int) -> ResponseReturnValue:
    endpoint = _endpoint(endpoint_id)
    with refused(_back(endpoint_id), endpoints.InvalidEndpoint, say=sentence):
        changed = endpoints.update(db.session(), endpoint, _form(), _allowed(), by=_me())
    return saved(
        f"Saved: {', '.join(changed)}." if changed else "Nothing changed.", _back(endpoint_id)
    )


@bp.post("/webhooks/<int:endpoint_id>/action", endpoint="webhooks_action")
@manager_required
def webhooks_action(endpoint_id: int) -> ResponseReturnValue:
    """The endpoint's buttons: test, enable, disable, rotate the secret, delete."""
    endpoint, session = _endpoint(endpoint_id), db.session()
    action = request.form.get("action", "")
    if action == "rotate":
        endpoints.rotate_secret(session, endpoint, by=_me())
        session.commit()
        return _secret(endpoint, "New signing secret")
    if action == "delete":
        endpoints.delete(session, endpoint, by=_me())
        return saved("Endpoint deleted; nothing more is sent to it.", url_for("manage.webhooks"))
    return saved(_simple_action(session, endpoint, action), _back(endpoint_id))


def _simple_action(session: Any, endpoint: WebhookEndpoint, action: str) -> str:
    if action == "test":
        delivery.send_test(session, endpoint)
        return "A test event is on its way; its outcome shows in the log below."
    if action in ("enable", "disable"):
        revived = endpoints.set_enabled(session, endpoint, action == "enable", by=_me())
        if action == "disable":
            return "Disabled: nothing is sent until you enable it."
        return f"Enabled: sending again from where it stopped ({revived} to resend)."
    abort(400, description="Unknown action.")


@bp.post(
    "/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend",
    endpoint="webhooks_resend",
)
@manager_required
def webhooks_resend(endpoint_id: int, delivery_id: int) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    try:
        row = endpoints.delivery_of(session, endpoint, delivery_id)
    except endpoints.UnknownEndpoint:
        abort(404, description="No such delivery.")
    delivery.resend(session, row)
    return saved(
        f"Delivery {row.id} will be sent again, with the same webhook-id.", _back(endpoint_id)
    )


def _form() -> dict[str, Any]:
    form = request.form
    return {
        "name": form.get("name", "").strip(),
        "url": form.get("url", "").strip(),
        "format": form.get("format", "standard"),
        "event_types": form.getlist("event_types"),
        "share_alerts": form.get("share_alerts") == "on",
        "share_notes": form.get("share_notes") == "on",
        "in_order": form.get("in_order") == "on",
    }


def _secret(endpoint: WebhookEndpoint, headline: str) -> ResponseReturnValue:
    page = render_template("manage/webhooks/secret.html", endpoint=endpoint, headline=headline)
    return page, 200, {"Cache-Control": "no-store"}


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return endpoints.get(db.session(), endpoint_id)
    except endpoints.UnknownEndpoint:
        abort(404, description="No such endpoint.")


def _back(endpoint_id: int) -> str:
    return url_for("manage.webhooks_show", endpoint_id=endpoint_id)


def _allowed() -> Any:
    return current_app.extensions.get("callerid.webhook_allow", ())


def _me() -> Any:
    return current_user._get_current_object()
