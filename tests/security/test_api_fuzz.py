"""schemathesis against the API as described at /api/openapi.json (issue 13): every /api
operation, with a bearer token of each role allowed to call it (a ``phone`` token for a phone
system's routes), on both engines, answers only statuses, content types and bodies the
description names, and never a server error.

Bounded for the test budget (a fixed seed, at most 12 examples per operation, the examples,
coverage and fuzzing phases, no stateful phase); longer runs are ``python -m bench.fuzz``."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callerid.webhooks import addresses

from ..factories import add_call, add_customer, add_user, add_webhook, token_for

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
max-examples = 12
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


@pytest.fixture(autouse=True)
def offline_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every webhook host resolves at once, offline, to one public address: each fuzzed URL
    would otherwise wait on the real resolver (10 s of the run on POST /api/webhooks alone),
    and a run would hang on the network. The IDNA encoding a real look-up starts with, and
    fails on for a malformed name, is kept."""

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        host.encode("idna")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    resolver = SimpleNamespace(getaddrinfo=resolve, SOCK_STREAM=socket.SOCK_STREAM)
    monkeypatch.setattr(addresses, "socket", resolver)


@pytest.fixture
def api(app, session):
    """The app's own description, and a few rows for the operations to find."""
    anna = add_customer(session, "Anna Moors")
    add_call(session, anna, status="no-answer")
    add_webhook(session)  # endpoint 1, with delivery 1
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)


@pytest.fixture
def bearer(session) -> dict[str, dict[str, str]]:
    """The headers of a staff member's and a manager's API client, and of a phone system."""
    headers = {
        role: {"Authorization": f"Bearer {token_for(session, add_user(session, role, role))}"}
        for role in ("staff", "manager")
    }
    pbx = token_for(session, add_user(session, "pbx", "staff"), kind="phone")
    return {**headers, "phone": {"Authorization": f"Bearer {pbx}"}}


schema = schemathesis.pytest.from_fixture("api")
API = schema.include(path_regex=r"^/api/").exclude(path="/api/openapi.json")
# One ``include`` per subset: schemathesis ORs separate ``include`` calls (``API.include(tag=...)``
# selected every /api operation again) and ANDs the criteria of one.
STAFF_API = schema.include(path_regex=r"^/api/", tag="staff")
PHONE_API = schema.include(path_regex=r"^/api/", tag="phone")


@API.parametrize()
def test_every_api_operation_holds_to_its_description_for_a_manager(case, bearer):
    case.call_and_validate(headers=bearer["manager"], checks=CHECKS)


@STAFF_API.parametrize()
def test_every_staff_operation_holds_to_its_description_for_staff(case, bearer):
    case.call_and_validate(headers=bearer["staff"], checks=CHECKS)


@PHONE_API.parametrize()
def test_every_phone_operation_holds_to_its_description_for_a_phone_system(case, bearer):
    case.call_and_validate(headers=bearer["phone"], checks=CHECKS)
