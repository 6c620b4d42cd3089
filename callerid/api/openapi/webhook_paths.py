"""The outbound webhooks' routes under /api/ (managers)."""

from __future__ import annotations

from typing import Any

from .parts import (
    ID,
    MANAGER,
    TEXT,
    _object,
    _operation,
    _path,
    _ref,
)


def webhook_paths() -> dict[str, Any]:
    """/api/webhooks (managers): outbound webhook endpoints (api/webhooks.py)."""
    endpoint = _path("endpoint_id", ID, 1)
    one = (endpoint,)
    resending = {"allOf": [_ref("Webhook"), _object({"resending": {"type": "integer"}})]}
    return {
        "/api/webhooks": {
            "get": _operation(
                "Every outbound webhook endpoint.",
                MANAGER,
                {200: _object({"endpoints": {"type": "array", "items": _ref("Webhook")}})},
            ),
            "post": _operation(
                "Add an endpoint; its signing secret is shown now, and on rotation only.",
                MANAGER,
                {201: {"allOf": [_ref("Webhook"), _object({"secret": TEXT})]}},
                body=_ref("WebhookChanges"),
            ),
        },
        "/api/webhooks/{endpoint_id}": {
            "get": _operation(
                "One endpoint.", MANAGER, {200: _ref("Webhook")}, errors=(404,), parameters=one
            ),
            "patch": _operation(
                "Change an endpoint.",
                MANAGER,
                {200: _ref("Webhook")},
                errors=(404,),
                parameters=one,
                body=_ref("WebhookChanges"),
            ),
            "delete": _operation(
                "Delete an endpoint.", MANAGER, {204: None}, errors=(404,), parameters=one
            ),
        },
        "/api/webhooks/{endpoint_id}/secret": {
            "post": _operation(
                "A new signing secret, in force at once; the old one stops.",
                MANAGER,
                {200: _object({"id": {"type": "integer"}, "secret": TEXT})},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/enable": {
            "post": _operation(
                "Enable an endpoint, resending from where it stopped.",
                MANAGER,
                {200: resending},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/disable": {
            "post": _operation(
                "Disable an endpoint.", MANAGER, {200: resending}, errors=(404,), parameters=one
            )
        },
        "/api/webhooks/{endpoint_id}/test": {
            "post": _operation(
                "Queue a test event (webhook.test) to the endpoint.",
                MANAGER,
                {202: _ref("Delivery")},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/deliveries": {
            "get": _operation(
                "The endpoint's latest deliveries, newest first.",
                MANAGER,
                {200: _object({"deliveries": {"type": "array", "items": _ref("Delivery")}})},
                errors=(404,),
                parameters=one,
            )
        },
        "/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend": {
            "post": _operation(
                "Send a delivery again (the same webhook-id), now.",
                MANAGER,
                {202: _ref("Delivery")},
                errors=(404,),
                parameters=(endpoint, _path("delivery_id", ID, 1)),
            )
        },
    }
