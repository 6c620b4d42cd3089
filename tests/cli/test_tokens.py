"""flask tokens create --kind KIND NAME."""

from __future__ import annotations

from callerid.auth import tokens

from ..factories import add_call, add_user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def noted_by(client, session, token: str) -> str:
    """Who a note posted with ``token`` is signed by: the user the token acts as."""
    call = add_call(session)
    response = client.post(
        f"/api/calls/{call.call_sid}/notes", json={"body": "from the CRM"}, headers=bearer(token)
    )
    assert response.status_code == 201
    return response.get_json()["note"]["author"]


def test_a_user_token_is_the_default_and_acts_as_its_user(runner, session, client):
    add_user(session, "wallboard")
    result = runner.invoke(args=["tokens", "create", "wallboard"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert client.get("/api/calls", headers=bearer(token)).status_code == 200
    assert noted_by(client, session, token) == "wallboard"


def test_a_metrics_token_is_printed_on_the_last_line_and_reads_no_api(runner, session, client):
    add_user(session, "ops", role="manager")
    result = runner.invoke(args=["tokens", "create", "--kind", "metrics", "ops"])
    assert result.exit_code == 0, result.output
    assert "metrics token for ops" in result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith(tokens.PREFIX)
    # Its owner is a manager, yet the token opens neither the API nor the screens' stream.
    assert client.get("/api/customers", headers=bearer(token)).status_code == 401
    assert client.get("/events", headers=bearer(token)).status_code == 401


def test_an_unknown_kind_is_refused_with_the_kinds_there_are(runner, session):
    add_user(session, "ops")
    result = runner.invoke(args=["tokens", "create", "--kind", "admin", "ops"])
    assert result.exit_code == 2
    assert "'user'" in result.output and "'metrics'" in result.output


def test_a_token_for_nobody_is_refused(runner):
    result = runner.invoke(args=["tokens", "create", "--kind", "metrics", "ghost"])
    assert result.exit_code == 1
    assert "no user named 'ghost'" in result.output


def test_a_phone_token_speaks_for_its_phone_system_and_reads_no_api(runner, session, client):
    add_user(session, "frontdesk", role="manager")
    result = runner.invoke(
        args=["tokens", "create", "--kind", "phone", "--source", "FreePBX", "frontdesk"]
    )
    assert result.exit_code == 0, result.output
    assert "phone token of the phone system 'FreePBX' for frontdesk" in result.output
    token = result.output.strip().splitlines()[-1]
    assert tokens.live_token(session, token).source == "FreePBX"
    assert client.get("/api/customers", headers=bearer(token)).status_code == 401
    assert client.get("/events", headers=bearer(token)).status_code == 401
    lookup = client.get("/api/phone/lookup?number=%2B14155550134", headers=bearer(token))
    assert lookup.status_code == 200


def test_a_phone_token_without_a_source_speaks_for_the_default_system(runner, session):
    add_user(session, "frontdesk")
    result = runner.invoke(args=["tokens", "create", "--kind", "phone", "frontdesk"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert tokens.live_token(session, token).source == tokens.DEFAULT_SOURCE


def test_a_phone_systems_name_too_long_makes_no_token(runner, session):
    add_user(session, "frontdesk")
    result = runner.invoke(
        args=["tokens", "create", "--kind", "phone", "--source", "x" * 81, "frontdesk"]
    )
    assert result.exit_code == 1
    assert "at most 80 characters" in result.output
