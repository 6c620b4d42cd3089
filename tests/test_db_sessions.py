"""A request's session ends cleanly even when its database connection died under it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from callerid import db


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_request_whose_connection_died_still_ends_without_an_error(app):
    with app.test_request_context("/metrics"):
        session = db.session()
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with db.engine_for(app).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        db.release_session()  # PostgreSQL restarted, or the connection was cut: no 500
    with db.engine_for(app).connect() as fresh:  # and the pool hands out a live one next
        assert fresh.execute(text("SELECT 1")).scalar() == 1
