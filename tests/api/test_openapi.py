"""GET /api/openapi.json: readable without logging in, and describing every route under /api/
and every JSON route of the board, with their methods (issue 13)."""

from __future__ import annotations

import re

from flask import Flask

from ..factories import add_user, token_for


def described(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def served(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api/ and /board/ route the app has."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/board/")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_description_is_openapi_3_1_and_needs_no_login(client):
    document = described(client)
    assert document["openapi"] == "3.1.0"
    assert "bearer" in document["components"]["securitySchemes"]


def test_every_api_and_board_json_route_is_described_and_nothing_else(app, client):
    paths = described(client)["paths"]
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert served(app) - documented == set(), "routes without a description"
    assert documented - served(app) == set(), "descriptions of routes that do not exist"


def test_every_operation_says_its_errors_and_anonymous_gets_401(client):
    for path, item in described(client)["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert {"400", "503"} <= statuses or path == "/api/openapi.json", (path, method)
            if operation.get("security") != []:
                assert "401" in statuses, (path, method)


def test_a_number_no_route_can_hold_is_a_described_404(client, session):
    # Found by bench.fuzz: Werkzeug's path converter stops at a line break.
    headers = {"Authorization": f"Bearer {token_for(session, add_user(session, 'desk'))}"}
    response = client.get("/api/callers/41%0A55", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404
    described_statuses = described(client)["paths"]["/api/callers/{raw_number}"]["get"]["responses"]
    assert "404" in described_statuses
