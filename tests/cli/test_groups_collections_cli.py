"""`runyard groups …` and `runyard collections …` against a real `runyard serve` process."""

from __future__ import annotations

import re

import pytest
from tests.servers import Server, cli

pytestmark = [pytest.mark.slow]

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def created_id(out: str) -> str:
    match = re.search(UUID, out)
    assert match, out
    return match.group(0)


def test_an_admin_manages_a_group_and_its_members(server: Server) -> None:
    ada = created_id(cli(server, "users", "create", "ada@example.com", "--role", "EDITOR"))
    bob = created_id(cli(server, "users", "create", "bob@example.com", "--role", "EDITOR"))
    out = cli(server, "groups", "create", "Analysts", "--member", ada)
    assert "(1 member(s))" in out
    group = created_id(out)

    cli(server, "groups", "add-members", group, bob)
    listed = cli(server, "groups", "list", "--members")
    assert "Analysts" in listed and "ada@example.com" in listed and "bob@example.com" in listed
    cli(server, "groups", "remove-members", group, ada)
    assert "ada@example.com" not in cli(server, "groups", "list", "--members")

    assert "Data team" in cli(server, "groups", "rename", group, "Data team")
    out = cli(
        server, "groups", "add-members", group, "00000000-0000-4000-8000-000000000000", expect=1
    )
    assert "00000000-0000-4000-8000-000000000000" in out
    cli(server, "groups", "delete", group)
    assert "Data team" not in cli(server, "groups", "list")


def test_an_admin_shares_a_collection_and_files_a_project_in_it(server: Server) -> None:
    project = server.http.post("/api/v1/projects", json={"title": "Quarterly report"}).json()["id"]
    out = cli(
        server,
        "collections",
        "create",
        "Finance",
        "--description",
        "Money",
        "--workspace",
        "CAN_VIEW",
    )
    assert "workspace members: CAN_VIEW" in out
    collection = created_id(out)
    assert "Finance" in cli(server, "collections", "list")

    out = cli(
        server,
        "collections",
        "update",
        collection,
        "--name",
        "Finance & Ops",
        "--workspace",
        "NONE",
    )
    assert "Finance & Ops" in out and "workspace members: NONE" in out
    cli(server, "collections", "update", collection, "--user", "x=OWNER", expect=2)

    cli(server, "collections", "add-project", collection, project)
    assert "Quarterly report" in cli(server, "collections", "projects", collection)
    cli(server, "collections", "remove-project", collection, project)
    assert "Quarterly report" not in cli(server, "collections", "projects", collection)
    out = cli(
        server,
        "collections",
        "add-project",
        "00000000-0000-4000-8000-000000000000",
        project,
        expect=1,
    )
    assert "Collection not found" in out
