"""schemathesis against the API as described at /api/openapi.json (issue 13): every /api
operation, with a bearer token of each role allowed to call it, on both engines, answers only
statuses, content types and bodies the description names, and never a server error.

Bounded for the test budget (a fixed seed, at most 25 examples per operation, the examples,
coverage and fuzzing phases, no stateful phase); longer runs are ``python -m bench.fuzz``."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ..factories import add_call, add_customer, add_user, token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = SchemathesisConfig.from_str(
    """
seed = 13
[generation]
max-examples = 25
# No example database: the seed alone decides a run, and nothing is left in the work tree.
database = "none"
[phases.examples]
enabled = true
[phases.coverage]
enabled = true
[phases.fuzzing]
enabled = true
[phases.stateful]
enabled = false
"""
)


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's lazy schemas read and rewrite ``node._nodeid``, which pytest 9 no
    # longer keeps as an attribute; give it the one it expects.
    request.node._nodeid = request.node.nodeid


@pytest.fixture
def api(app, session):
    """The app's own description, and a few rows for the operations to find."""
    anna = add_customer(session, "Anna Moors")
    add_call(session, anna, status="no-answer")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)


@pytest.fixture
def bearer(session) -> dict[str, dict[str, str]]:
    """The headers of a staff member's and a manager's API client."""
    return {
        role: {"Authorization": f"Bearer {token_for(session, add_user(session, role, role))}"}
        for role in ("staff", "manager")
    }


schema = schemathesis.pytest.from_fixture("api")
API = schema.include(path_regex=r"^/api/").exclude(path="/api/openapi.json")


@API.parametrize()
def test_every_api_operation_holds_to_its_description_for_a_manager(case, bearer):
    case.call_and_validate(headers=bearer["manager"], checks=CHECKS)


@API.include(tag="staff").parametrize()
def test_every_staff_operation_holds_to_its_description_for_staff(case, bearer):
    case.call_and_validate(headers=bearer["staff"], checks=CHECKS)
