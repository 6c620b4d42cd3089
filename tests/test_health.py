"""/healthz and /readyz for load balancers."""

from __future__ import annotations

from callerid import create_app, db

from .conftest import settings_for


def test_healthz_and_readyz_answer_when_all_is_well(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_readyz_says_503_when_the_database_does_not_answer(tmp_path):
    url = f"sqlite:///{tmp_path / 'gone' / 'db.sqlite3'}"
    app = create_app(settings_for(url, tmp_path / "instance"))
    response = app.test_client().get("/readyz")
    db.engine_for(app).dispose()
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert app.test_client().get("/healthz").status_code == 200
