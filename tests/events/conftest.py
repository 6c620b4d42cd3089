"""Events are followed by position: on PostgreSQL, the tests here that run an app also run the
sequencer, as a process that follows events does."""

import pytest


@pytest.fixture(autouse=True)
def _positions(request: pytest.FixtureRequest) -> None:
    if "app" in request.fixturenames:
        request.getfixturevalue("positions")
