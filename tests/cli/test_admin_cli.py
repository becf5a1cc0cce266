"""`runyard users …` and `runyard tokens …` against a real `runyard serve` process."""

from __future__ import annotations

import re

import pytest
from tests.servers import Server, cli

pytestmark = [pytest.mark.slow]


def test_an_admin_adds_a_user_issues_their_token_and_deactivates_them(server: Server) -> None:
    out = cli(server, "users", "create", "bob@example.com", "--name", "Bob", "--role", "editor")
    match = re.search(r"([0-9a-f-]{36})\s+bob@example.com\s+Bob\s+EDITOR", out)
    assert match, out
    bob = match.group(1)
    assert bob in cli(server, "users", "list", "--sort", "EMAIL")

    out = cli(server, "tokens", "create", "--user-id", bob, "--days", "7", "--description", "first")
    secret = re.search(r"(hxtp_\S+)", out)
    assert secret, out
    assert "bob@example.com" in cli(server, "users", "me", token=secret.group(1))
    listed = cli(server, "tokens", "list")
    assert "first" in listed and secret.group(1) not in listed

    assert "MANAGER" in cli(server, "users", "update", bob, "--role", "manager")
    assert "(deactivated)" in cli(server, "users", "deactivate", bob)
    cli(server, "users", "me", token=secret.group(1), expect=1)
    cli(server, "users", "reactivate", bob)
    assert "bob@example.com" in cli(server, "users", "me", token=secret.group(1))


def test_a_revoked_workspace_token_is_refused(server: Server) -> None:
    out = cli(server, "tokens", "create", "--type", "workspace", "-s", "users:read")
    created = re.search(r"Token ([0-9a-f-]{36}) \(WORKSPACE\)", out)
    secret = re.search(r"(hxtw_\S+)", out)
    assert created and secret, out
    assert "a workspace token" in cli(server, "users", "me", token=secret.group(1))
    cli(server, "users", "list", token=secret.group(1))
    cli(server, "users", "create", "x@example.com", token=secret.group(1), expect=1)
    assert "Revoked" in cli(server, "tokens", "revoke", created.group(1))
    assert "401" in cli(server, "users", "me", token=secret.group(1), expect=1)
