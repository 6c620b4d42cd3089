"""/api/webhooks (managers): outbound webhook endpoints, their deliveries, resends and tests.
Every change is in the audit trail; a secret is shown when made or rotated, never again."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import db
from ..auth import manager_required
from ..errors import BadField
from ..models import WebhookEndpoint
from ..request_args import json_object
from ..webhooks import delivery, endpoints
from . import bp


@bp.get("/webhooks")
@manager_required
def webhook_list() -> ResponseReturnValue:
    found = endpoints.every(db.session())
    return jsonify({"endpoints": [endpoints.as_json(e) for e in found]})


@bp.post("/webhooks")
@manager_required
def webhook_create() -> ResponseReturnValue:
    session = db.session()
    endpoint = _checked(lambda: endpoints.create(session, json_object(), _allowed(), by=_me()))
    session.commit()
    return jsonify({**endpoints.as_json(endpoint), "secret": endpoint.secret}), 201


@bp.get("/webhooks/<int:endpoint_id>")
@manager_required
def webhook_detail(endpoint_id: int) -> ResponseReturnValue:
    return jsonify(endpoints.as_json(_endpoint(endpoint_id)))


@bp.patch("/webhooks/<int:endpoint_id>")
@manager_required
def webhook_update(endpoint_id: int) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    _checked(lambda: endpoints.update(session, endpoint, json_object(), _allowed(), by=_me()))
    session.commit()
    return jsonify(endpoints.as_json(endpoint))


@bp.delete("/webhooks/<int:endpoint_id>")
@manager_required
def webhook_delete(endpoint_id: int) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    endpoints.delete(session, endpoint, by=_me())
    session.commit()
    return "", 204


@bp.post("/webhooks/<int:endpoint_id>/secret")
@manager_required
def webhook_rotate(endpoint_id: int) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    secret = endpoints.rotate_secret(session, endpoint, by=_me())
    session.commit()
    return jsonify({"id": endpoint.id, "secret": secret})


@bp.post("/webhooks/<int:endpoint_id>/enable")
@manager_required
def webhook_enable(endpoint_id: int) -> ResponseReturnValue:
    return _enabled(endpoint_id, True)


@bp.post("/webhooks/<int:endpoint_id>/disable")
@manager_required
def webhook_disable(endpoint_id: int) -> ResponseReturnValue:
    return _enabled(endpoint_id, False)


def _enabled(endpoint_id: int, enabled: bool) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    revived = endpoints.set_enabled(session, endpoint, enabled, by=_me())
    session.commit()
    return jsonify({**endpoints.as_json(endpoint), "resending": revived})


@bp.post("/webhooks/<int:endpoint_id>/test")
@manager_required
def webhook_test(endpoint_id: int) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    sent = delivery.send_test(session, endpoint)
    session.commit()
    return jsonify(endpoints.delivery_json(sent)), 202


@bp.get("/webhooks/<int:endpoint_id>/deliveries")
@manager_required
def webhook_deliveries(endpoint_id: int) -> ResponseReturnValue:
    found = endpoints.deliveries(db.session(), _endpoint(endpoint_id))
    return jsonify({"deliveries": [endpoints.delivery_json(d) for d in found]})


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend")
@manager_required
def webhook_resend(endpoint_id: int, delivery_id: int) -> ResponseReturnValue:
    endpoint, session = _endpoint(endpoint_id), db.session()
    try:
        row = endpoints.delivery_of(session, endpoint, delivery_id)
    except endpoints.UnknownEndpoint:
        abort(404, description=f"Endpoint {endpoint_id} has no delivery {delivery_id}.")
    delivery.resend(session, row)
    session.commit()
    return jsonify(endpoints.delivery_json(row)), 202


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return endpoints.get(db.session(), endpoint_id)
    except endpoints.UnknownEndpoint:
        abort(404, description=f"No webhook endpoint {endpoint_id}.")


def _checked(work: Any) -> Any:
    try:
        return work()
    except endpoints.InvalidEndpoint as error:
        db.session().rollback()
        raise BadField(error.field, str(error)) from error


def _allowed() -> Any:
    return current_app.extensions.get("callerid.webhook_allow", ())


def _me() -> Any:
    return current_user._get_current_object()
