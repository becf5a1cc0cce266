"""POST /api/v1/data-connections (Hex's CreateDataConnection)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from runyard.domain.connections import ConnectionType, readable_fields, secret_fields
from tests.cast import (
    bearer,
    new_connection,
    new_group,
    new_user,
    personal_token,
    postgres_details,
    workspace_token,
)

RESOURCE_KEYS = {
    "id",
    "name",
    "type",
    "connectionDetails",
    "connectViaSsh",
    "includeMagic",
    "allowWritebackCells",
    "schemaRefreshAccess",
    "sharing",
}

# A complete, valid body of details for every type the API can create.
DETAILS: dict[str, dict[str, Any]] = {
    "athena": {
        "secretAccessKey": "athena-secret",
        "accessKeyId": "AKIA1",
        "workgroup": None,
        "s3OutputPath": "s3://bucket/out",
        "port": 443,
        "hostname": "athena.eu-west-1.amazonaws.com",
    },
    "bigquery": {"serviceAccountJsonConfig": '{"type": "service_account"}', "projectId": "p"},
    "databricks": {"accessToken": "dapi-secret", "jdbcUrl": "jdbc:databricks://h:443"},
    "postgres": postgres_details()["postgres"],
    "redshift": {
        "sslRootCert": "-----BEGIN CERTIFICATE-----",
        "password": "rs-secret",
        "username": "u",
        "database": "d",
        "port": 5439,
        "host": "cluster.redshift.amazonaws.com",
    },
    "snowflake": {
        "passphrase": "pp-secret",
        "privateKey": "-----BEGIN PRIVATE KEY-----",
        "username": "u",
        "schema": "PUBLIC",
        "database": "D",
        "warehouse": "W",
        "accountName": "acme",
    },
    "trino": {
        "sessionProperties": [{"key": "query_max_run_time", "value": "1h"}],
        "password": "trino-secret",
        "username": "u",
        "catalog": "hive",
        "port": 8080,
        "hostname": "trino",
    },
    "sqlite": {"path": "/data/sales.db"},
    "duckdb": {"path": "/data/sales.duckdb"},
    "mysql": {
        "hostname": "mysql",
        "port": 3306,
        "database": "shop",
        "username": "u",
        "password": "my-secret",
    },
}


def test_it_answers_201_with_hexs_resource_and_no_secret(client: TestClient) -> None:
    response = client.post(
        "/api/v1/data-connections",
        json={
            "name": "Warehouse",
            "type": "postgres",
            "connectionDetails": postgres_details(),
            "description": "Sales replica",
        },
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    created = response.json()
    assert created.keys() >= RESOURCE_KEYS
    assert created["connectionDetails"] == {
        "postgres": {
            "username": "analyst",
            "database": "sales",
            "port": 5432,
            "hostname": "db.internal",
        }
    }
    assert created["description"] == "Sales replica"
    assert created["sharing"] == {
        "workspace": {"public": "NONE", "guests": "NONE", "members": "QUERY"},
        "groups": [],
    }
    assert created["schemaRefreshAccess"] == "ADMINS"
    assert created["connectViaSsh"] is False


@pytest.mark.parametrize("kind", sorted(DETAILS))
def test_every_writable_type_is_accepted_and_read_back_without_its_secrets(
    client: TestClient, kind: str
) -> None:
    created = new_connection(
        client, f"{kind} connection", type=kind, connectionDetails={kind: DETAILS[kind]}
    )
    shown = created["connectionDetails"][kind]
    assert set(shown) == set(readable_fields(ConnectionType(kind)))
    assert not set(shown) & secret_fields(ConnectionType(kind))


def test_clickhouse_is_readable_only_and_cannot_be_created(client: TestClient) -> None:
    response = client.post(
        "/api/v1/data-connections",
        json={
            "name": "ch",
            "type": "clickhouse",
            "connectionDetails": {"clickhouse": {"username": "u", "port": 9000, "hostname": "h"}},
        },
    )
    assert response.status_code == 400
    assert client.get("/api/v1/data-connections").json()["values"] == []


def test_a_missing_required_field_is_a_400_naming_it_and_nothing_is_created(
    client: TestClient,
) -> None:
    details = postgres_details()
    del details["postgres"]["hostname"]
    response = client.post(
        "/api/v1/data-connections",
        json={"name": "x", "type": "postgres", "connectionDetails": details},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BAD_REQUEST" and body["traceId"]
    assert [i["message"] for i in body["issues"]] == [
        "connectionDetails.postgres.hostname: Field required"
    ]
    assert client.get("/api/v1/data-connections").json()["values"] == []


@pytest.mark.parametrize(
    "details",
    [
        {"mysql": DETAILS["mysql"]},  # the key does not match the type
        {"postgres": DETAILS["postgres"], "mysql": DETAILS["mysql"]},  # two keys
        {"postgres": {**DETAILS["postgres"], "sslmode": "require"}},  # an unknown field
        {"postgres": {**DETAILS["postgres"], "port": 70000}},  # out of range
        {"postgres": {**DETAILS["postgres"], "password": ""}},  # an empty secret
        {"postgres": "host=db"},
    ],
)
def test_details_that_do_not_fit_the_type_are_a_400(
    client: TestClient, details: dict[str, Any]
) -> None:
    response = client.post(
        "/api/v1/data-connections",
        json={"name": "x", "type": "postgres", "connectionDetails": details},
    )
    assert response.status_code == 400, response.text
    assert client.get("/api/v1/data-connections").json()["values"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "type": "postgres", "connectionDetails": postgres_details()},
        {"name": "x", "type": "oracle", "connectionDetails": {"oracle": {}}},
        {"name": "x", "type": "postgres"},
        {"name": "x", "type": "postgres", "connectionDetails": postgres_details(), "x": 1},
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": postgres_details(),
            "sharing": {"workspace": {"public": "QUERY"}},
        },
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": postgres_details(),
            "schemaRefreshSchedule": {
                "cadence": "DAILY",
                "enabled": True,
                "daily": {"timezoneString": "Mars/Olympus", "hour": 1, "minute": 0},
            },
        },
    ],
)
def test_malformed_bodies_are_a_400_and_create_nothing(
    client: TestClient, body: dict[str, Any]
) -> None:
    response = client.post("/api/v1/data-connections", json=body)
    assert response.status_code == 400, response.text
    assert client.get("/api/v1/data-connections").json()["values"] == []


def test_the_optional_settings_are_stored_and_echoed(client: TestClient) -> None:
    schedule = {
        "cadence": "WEEKLY",
        "enabled": True,
        "weekly": {
            "timezoneString": "America/New_York",
            "hour": 6,
            "minute": 30,
            "dayOfWeek": "MONDAY",
        },
    }
    filters = {"schemas": {"exclude": {"values": ["tmp_"], "matchType": "PREFIX"}}}
    created = new_connection(
        client,
        connectViaSsh=True,
        includeMagic=True,
        allowWritebackCells=True,
        schemaRefreshSchedule=schedule,
        schemaFilters=filters,
        schemaRefreshAccess="USERS_WITH_QUERY_ACCESS",
        sharing={"workspace": {"public": "VIEW_RESULTS", "guests": "QUERY", "members": "NONE"}},
    )
    assert created["schemaRefreshSchedule"] == schedule
    assert created["schemaFilters"] == filters
    assert created["schemaRefreshAccess"] == "USERS_WITH_QUERY_ACCESS"
    assert created["connectViaSsh"] and created["includeMagic"] and created["allowWritebackCells"]
    assert created["sharing"]["workspace"] == {
        "public": "VIEW_RESULTS",
        "guests": "QUERY",
        "members": "NONE",
    }


def test_it_shares_with_groups_by_id_and_answers_their_names(client: TestClient) -> None:
    analysts = new_group(client, "Analysts")
    created = new_connection(
        client, sharing={"groups": [{"group": {"id": analysts}, "access": "VIEW_RESULTS"}]}
    )
    assert created["sharing"]["groups"] == [
        {"group": {"id": analysts, "name": "Analysts"}, "access": "VIEW_RESULTS"}
    ]


def test_an_unknown_group_is_a_404_and_nothing_is_created(client: TestClient) -> None:
    response = client.post(
        "/api/v1/data-connections",
        json={
            "name": "x",
            "type": "postgres",
            "connectionDetails": postgres_details(),
            "sharing": {
                "groups": [
                    {"group": {"id": "00000000-0000-4000-8000-000000000000"}, "access": "QUERY"}
                ]
            },
        },
    )
    assert response.status_code == 404
    assert client.get("/api/v1/data-connections").json()["values"] == []


def test_only_admins_may_create_connections(client: TestClient) -> None:
    manager = new_user(client, "manager@example.com", role="MANAGER")
    token = personal_token(client, manager["id"])
    body = {"name": "x", "type": "postgres", "connectionDetails": postgres_details()}
    response = client.post("/api/v1/data-connections", json=body, headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_a_workspace_token_needs_the_connections_write_scope(client: TestClient) -> None:
    body = {"name": "x", "type": "postgres", "connectionDetails": postgres_details()}
    reader = workspace_token(client, ["connections:read"])
    writer = workspace_token(client, ["connections:write"])
    denied = client.post("/api/v1/data-connections", json=body, headers=bearer(reader))
    assert denied.status_code == 403
    allowed = client.post("/api/v1/data-connections", json=body, headers=bearer(writer))
    assert allowed.status_code == 201


def test_a_missing_token_is_a_401(client: TestClient) -> None:
    body = {"name": "x", "type": "postgres", "connectionDetails": postgres_details()}
    response = client.post("/api/v1/data-connections", json=body, headers={"Authorization": ""})
    assert response.status_code == 401


def test_the_workspace_connections_path_is_an_alias(client: TestClient) -> None:
    body = {"name": "x", "type": "sqlite", "connectionDetails": {"sqlite": {"path": "/x.db"}}}
    response = client.post("/api/v1/workspace/connections", json=body)
    assert response.status_code == 201
    assert client.get(f"/api/v1/data-connections/{response.json()['id']}").status_code == 200


def test_the_sql_cache_lifetime_defaults_to_five_minutes_and_may_be_set(
    client: TestClient,
) -> None:
    default = new_connection(client, name="Default")
    never = new_connection(client, name="Never", cacheLifetimeSeconds=0)

    assert default["cacheLifetimeSeconds"] == 300
    assert never["cacheLifetimeSeconds"] == 0


@pytest.mark.parametrize("lifetime", [-1, 366 * 24 * 3600, "long", None])
def test_a_bad_sql_cache_lifetime_is_a_400_naming_it(client: TestClient, lifetime: Any) -> None:
    body = {
        "name": "Warehouse",
        "type": "postgres",
        "connectionDetails": postgres_details(),
        "cacheLifetimeSeconds": lifetime,
    }
    response = client.post("/api/v1/data-connections", json=body)
    assert response.status_code == 400, response.text
    assert "cacheLifetimeSeconds" in response.text
