"""PATCH /api/v1/data-connections/{dataConnectionId} (Hex's EditDataConnection).

Success is 201, as Hex's spec lists it (contract Q12).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from runyard.app import Runtime
from tests.cast import bearer, new_connection, new_group, new_user, personal_token

UNKNOWN = "00000000-0000-4000-8000-000000000000"
REDSHIFT = {
    "sslRootCert": "-----BEGIN CERTIFICATE-----",
    "password": "rs-secret",
    "username": "u",
    "database": "d",
    "port": 5439,
    "host": "cluster",
}


def edit(client: TestClient, connection_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.patch(f"/api/v1/data-connections/{connection_id}", json=body)
    assert response.status_code == 201, response.text
    edited: dict[str, Any] = response.json()
    return edited


def secrets_of(runtime: Runtime, connection_id: str) -> dict[str, Any]:
    details: dict[str, Any] = runtime.services.connections.resolve_for_run(connection_id)["details"]
    return details


def test_only_the_fields_given_change(client: TestClient) -> None:
    created = new_connection(client, description="old")
    edited = edit(client, created["id"], {"name": "Renamed", "includeMagic": True})
    assert edited["name"] == "Renamed" and edited["includeMagic"] is True
    assert edited["description"] == "old"
    assert edited["connectionDetails"] == created["connectionDetails"]
    assert client.get(f"/api/v1/data-connections/{created['id']}").json() == edited


def test_details_merge_and_an_omitted_secret_keeps_its_value(
    client: TestClient, runtime: Runtime
) -> None:
    created = new_connection(client)
    edited = edit(client, created["id"], {"connectionDetails": {"postgres": {"port": 6432}}})
    assert edited["connectionDetails"]["postgres"]["port"] == 6432
    assert edited["connectionDetails"]["postgres"]["hostname"] == "db.internal"
    assert secrets_of(runtime, created["id"])["password"] == "pg-secret-0001"


def test_a_new_secret_replaces_the_stored_one(client: TestClient, runtime: Runtime) -> None:
    created = new_connection(client)
    edited = edit(client, created["id"], {"connectionDetails": {"postgres": {"password": "new"}}})
    assert "password" not in edited["connectionDetails"]["postgres"]
    assert secrets_of(runtime, created["id"])["password"] == "new"


def test_a_null_clears_a_secret_only_where_the_contract_allows_null(
    client: TestClient, runtime: Runtime
) -> None:
    created = new_connection(client, type="redshift", connectionDetails={"redshift": REDSHIFT})
    edit(client, created["id"], {"connectionDetails": {"redshift": {"sslRootCert": None}}})
    stored = secrets_of(runtime, created["id"])
    assert "sslRootCert" not in stored and stored["password"] == "rs-secret"
    refused = client.patch(
        f"/api/v1/data-connections/{created['id']}",
        json={"connectionDetails": {"redshift": {"password": None}}},
    )
    assert refused.status_code == 400
    assert secrets_of(runtime, created["id"])["password"] == "rs-secret"


def test_a_new_type_needs_a_complete_set_of_its_details(
    client: TestClient, runtime: Runtime
) -> None:
    created = new_connection(client)
    path = f"/api/v1/data-connections/{created['id']}"
    assert client.patch(path, json={"type": "sqlite"}).status_code == 400
    partial = {"type": "mysql", "connectionDetails": {"mysql": {"port": 3306}}}
    assert client.patch(path, json=partial).status_code == 400
    edited = edit(
        client,
        created["id"],
        {"type": "sqlite", "connectionDetails": {"sqlite": {"path": "/data/x.db"}}},
    )
    assert edited["type"] == "sqlite"
    assert edited["connectionDetails"] == {"sqlite": {"path": "/data/x.db"}}
    assert secrets_of(runtime, created["id"]) == {"path": "/data/x.db"}


def test_nullable_settings_are_cleared_by_null(client: TestClient) -> None:
    schedule = {"cadence": "HOURLY", "enabled": True}
    created = new_connection(client, description="d", schemaRefreshSchedule=schedule)
    edited = edit(client, created["id"], {"description": None, "schemaRefreshSchedule": None})
    assert edited["description"] is None and edited["schemaRefreshSchedule"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"name": ""},
        {"includeMagic": None},
        {"type": "oracle"},
        {"connectionDetails": {"mysql": {"port": 1}}},
        {"connectionDetails": {"postgres": {"port": "five"}}},
        {"connectionDetails": {"postgres": {"hostname": None}}},
        {"connectionDetails": {"postgres": {"sslmode": "require"}}},
        {"sharing": {"groups": [{"group": {"id": UNKNOWN}, "access": "QUERY"}]}},
        {"colour": "red"},
        {"cacheLifetimeSeconds": None},
        {"cacheLifetimeSeconds": -5},
    ],
)
def test_bad_edits_are_a_400_and_change_nothing(client: TestClient, body: dict[str, Any]) -> None:
    created = new_connection(client)
    response = client.patch(f"/api/v1/data-connections/{created['id']}", json=body)
    assert response.status_code == 400, response.text
    assert client.get(f"/api/v1/data-connections/{created['id']}").json() == created


def test_group_sharing_is_upserted_and_none_removes_a_grant(client: TestClient) -> None:
    analysts = new_group(client, "Analysts")
    finance = new_group(client, "Finance")
    created = new_connection(
        client, sharing={"groups": [{"group": {"id": analysts}, "access": "QUERY"}]}
    )
    upsert = [
        {"group": {"id": analysts}, "access": "VIEW_RESULTS"},
        {"group": {"id": finance}, "access": "QUERY"},
    ]
    edited = edit(client, created["id"], {"sharing": {"groups": {"upsert": upsert}}})
    assert edited["sharing"]["groups"] == [
        {"group": {"id": analysts, "name": "Analysts"}, "access": "VIEW_RESULTS"},
        {"group": {"id": finance, "name": "Finance"}, "access": "QUERY"},
    ]
    removed = [{"group": {"id": analysts}, "access": "NONE"}]
    edited = edit(
        client,
        created["id"],
        {"sharing": {"groups": {"upsert": removed}, "workspace": {"members": "NONE"}}},
    )
    assert [g["group"]["name"] for g in edited["sharing"]["groups"]] == ["Finance"]
    assert edited["sharing"]["workspace"] == {"public": "NONE", "guests": "NONE", "members": "NONE"}


def test_a_grant_to_a_deleted_group_is_no_longer_shown(client: TestClient) -> None:
    group = new_group(client, "Temp")
    created = new_connection(
        client, sharing={"groups": [{"group": {"id": group}, "access": "QUERY"}]}
    )
    assert client.delete(f"/api/v1/groups/{group}").status_code == 204
    shown = client.get(f"/api/v1/data-connections/{created['id']}").json()
    assert shown["sharing"]["groups"] == []


def test_an_unknown_id_is_a_404(client: TestClient) -> None:
    response = client.patch(f"/api/v1/data-connections/{UNKNOWN}", json={"name": "x"})
    assert response.status_code == 404


def test_only_admins_may_edit_and_a_refusal_changes_nothing(client: TestClient) -> None:
    created = new_connection(client)
    manager = personal_token(client, new_user(client, "m@example.com", role="MANAGER")["id"])
    path = f"/api/v1/data-connections/{created['id']}"
    assert client.patch(path, json={"name": "x"}, headers=bearer(manager)).status_code == 403
    assert client.get(path).json()["name"] == created["name"]


def test_the_workspace_connections_path_is_an_alias(client: TestClient) -> None:
    created = new_connection(client)
    response = client.patch(f"/api/v1/workspace/connections/{created['id']}", json={"name": "y"})
    assert response.status_code == 201 and response.json()["name"] == "y"


def test_the_sql_cache_lifetime_is_edited_alone(client: TestClient) -> None:
    created = new_connection(client)

    edited = edit(client, created["id"], {"cacheLifetimeSeconds": 3600})

    assert edited["cacheLifetimeSeconds"] == 3600
    assert client.get(f"/api/v1/data-connections/{created['id']}").json() == edited
    assert {k: v for k, v in edited.items() if k not in ("cacheLifetimeSeconds", "updatedAt")} == {
        k: v for k, v in created.items() if k not in ("cacheLifetimeSeconds", "updatedAt")
    }
