"""`runyard audit` against a real `runyard serve` process."""

from __future__ import annotations

import pytest
from tests.servers import Server, cli

pytestmark = [pytest.mark.slow]


def test_an_admin_sees_their_changes_filtered_by_action_prefix(server: Server) -> None:
    cli(server, "users", "create", "bob@example.com", "--role", "editor")
    cli(server, "groups", "create", "Analysts")
    users_only = cli(server, "audit", "--action", "user.")
    assert "user.create" in users_only and "group.create" not in users_only
    assert "admin@runyard.local" in users_only
    everything = cli(server, "audit", "--limit", "1")
    assert "group.create" in everything and "user.create" not in everything
