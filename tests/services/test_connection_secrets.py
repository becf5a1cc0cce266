"""Data-connection secrets never leave the server in clear, nor rest in the database in clear.

Connections are created with known secrets; then every connection endpoint is exercised,
bad requests that carry the secrets included. Every response, every log record (at DEBUG)
and the raw database (the SQLite file and its WAL, or every row of every PostgreSQL table
as text) is searched for the secrets: there must be no hit. Only `resolve_for_run`, which
no adapter exposes, gives them back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.cast import bearer, new_connection, new_user, personal_token

from runyard.api.errors import status_of
from runyard.app import Runtime
from runyard.auth.secrets import SecretBox, SecretsUnreadable
from runyard.services.connections import ConnectionService

# Each secret is distinctive, so a hit cannot be a coincidence.
PG_PASSWORD = "pg-pass-Q7mZ2xK9"
PG_NEW_PASSWORD = "pg-rotated-W4nB8vL1"
RS_PASSWORD = "rs-pass-H3jT6yP0"
RS_CERT = "rs-cert-N5cV1bM8"
SF_PASSPHRASE = "sf-phrase-D2fG7hJ4"
SF_KEY = "sf-key-K9lZ3xC6"
BQ_MARKER = "bq-sa-key-R8tY5uI2"
MYSQL_PASSWORD = "my-pass-E1wQ4aS7"
ATHENA_SECRET = "athena-sk-U6iO9pL3"
DATABRICKS_TOKEN = "dapi-T2gH5jK8"
TRINO_PASSWORD = "trino-pass-Y4uI7oP1"
REJECTED = "rejected-secret-Z0xC3vB6"  # only ever sent in requests that fail

SECRETS = [
    PG_PASSWORD,
    PG_NEW_PASSWORD,
    RS_PASSWORD,
    RS_CERT,
    SF_PASSPHRASE,
    SF_KEY,
    BQ_MARKER,
    MYSQL_PASSWORD,
    ATHENA_SECRET,
    DATABRICKS_TOKEN,
    TRINO_PASSWORD,
    REJECTED,
]

CONNECTIONS: dict[str, dict[str, Any]] = {
    "postgres": {
        "password": PG_PASSWORD,
        "username": "analyst",
        "database": "sales",
        "port": 5432,
        "hostname": "db",
    },
    "redshift": {
        "sslRootCert": RS_CERT,
        "password": RS_PASSWORD,
        "username": "u",
        "database": "d",
        "port": 5439,
        "host": "cluster",
    },
    "snowflake": {
        "passphrase": SF_PASSPHRASE,
        "privateKey": SF_KEY,
        "username": "u",
        "database": "D",
        "warehouse": "W",
        "accountName": "acme",
    },
    "bigquery": {
        "serviceAccountJsonConfig": f'{{"type": "service_account", "private_key": "{BQ_MARKER}"}}',
        "projectId": "p",
    },
    "mysql": {
        "hostname": "mysql",
        "port": 3306,
        "database": "shop",
        "username": "u",
        "password": MYSQL_PASSWORD,
    },
    "athena": {
        "secretAccessKey": ATHENA_SECRET,
        "accessKeyId": "AKIA1",
        "s3OutputPath": "s3://b/o",
        "port": 443,
        "hostname": "athena",
    },
    "databricks": {"accessToken": DATABRICKS_TOKEN, "jdbcUrl": "jdbc:databricks://h"},
    "trino": {"password": TRINO_PASSWORD, "username": "u", "port": 8080, "hostname": "trino"},
}


class Recorder:
    """Every answer the tests receive, as bytes (status line, headers and body)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.answers: list[bytes] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        headers = "".join(f"{k}: {v}\n" for k, v in response.headers.items())
        self.answers.append(f"{response.status_code}\n{headers}".encode() + response.content)
        return response


def bad_requests(call: Recorder, connection_id: str, outsider: str) -> None:
    """Requests that fail, each carrying a secret in a place the server must not echo."""
    pg = CONNECTIONS["postgres"]
    creates: list[dict[str, Any]] = [
        # a required field missing
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": {"postgres": {"password": REJECTED}},
        },
        # an unknown field whose value is a secret
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": {"postgres": {**pg, "sslPassword": REJECTED}},
        },
        # a secret where a port belongs
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": {"postgres": {**pg, "port": REJECTED}},
        },
        # a secret of the wrong type
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": {"postgres": {**pg, "password": [REJECTED]}},
        },
        # details under the wrong type's key
        {"name": "x", "type": "postgres", "connectionDetails": {"mysql": {"password": REJECTED}}},
        # an unknown type
        {"name": "x", "type": "oracle", "connectionDetails": {"oracle": {"password": REJECTED}}},
        # readable-only type
        {
            "name": "x",
            "type": "clickhouse",
            "connectionDetails": {"clickhouse": {"password": REJECTED}},
        },
        # an empty name beside a valid secret
        {
            "name": "",
            "type": "postgres",
            "connectionDetails": {"postgres": {**pg, "password": REJECTED}},
        },
        # a secret pasted into the wrong field
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": {"postgres": {**pg, "password": REJECTED}},
            "schemaRefreshSchedule": {
                "cadence": "DAILY",
                "enabled": True,
                "daily": {"timezoneString": REJECTED, "hour": 1, "minute": 0},
            },
        },
        # an unknown group beside a valid secret
        {
            "name": "x",
            "type": "postgres",
            "connectionDetails": {"postgres": {**pg, "password": REJECTED}},
            "sharing": {
                "groups": [
                    {"group": {"id": "00000000-0000-4000-8000-000000000000"}, "access": "QUERY"}
                ]
            },
        },
    ]
    for body in creates:
        assert call("POST", "/api/v1/data-connections", json=body).status_code in (400, 404)
    truncated = '{"name": "x", "type": "postgres", "connectionDetails": {"postgres": {"password": "'
    response = call(
        "POST",
        "/api/v1/data-connections",
        content=truncated + REJECTED,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    path = f"/api/v1/data-connections/{connection_id}"
    edits: list[dict[str, Any]] = [
        {"connectionDetails": {"postgres": {"password": REJECTED, "port": REJECTED}}},
        {"connectionDetails": {"postgres": {"password": REJECTED, "hostname": None}}},
        {"connectionDetails": {"postgres": {"token": REJECTED}}},
        {"type": "mysql", "connectionDetails": {"mysql": {"password": REJECTED}}},
        {"name": None, "connectionDetails": {"postgres": {"password": REJECTED}}},
    ]
    for body in edits:
        assert call("PATCH", path, json=body).status_code == 400
    forbidden = {"connectionDetails": {"postgres": {"password": REJECTED}}}
    assert call("PATCH", path, json=forbidden, headers=bearer(outsider)).status_code == 403
    whole = {
        "name": "x",
        "type": "postgres",
        "connectionDetails": {"postgres": {**pg, "password": REJECTED}},
    }
    assert (
        call("POST", "/api/v1/data-connections", json=whole, headers=bearer(outsider)).status_code
        == 403
    )


def raw_database(database_url: str) -> bytes:
    """Everything the database holds: the SQLite files' bytes, or every PostgreSQL row as
    text."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
        assert path in files
        return b"".join(p.read_bytes() for p in files)
    engine = sa.create_engine(database_url)
    try:
        dumped = []
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                rows = conn.execute(sa.text(f'SELECT t::text FROM "{table}" t')).scalars()
                dumped += [f"{table}: {row}" for row in rows]
        return "\n".join(dumped).encode()
    finally:
        engine.dispose()


def test_secrets_appear_in_no_answer_no_log_line_and_not_in_the_database(
    client: TestClient, runtime: Runtime, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    call = Recorder(client)
    ids: dict[str, str] = {}
    for kind, details in CONNECTIONS.items():
        body = {"name": f"{kind} conn", "type": kind, "connectionDetails": {kind: details}}
        response = call("POST", "/api/v1/data-connections", json=body)
        assert response.status_code == 201, response.text
        ids[kind] = response.json()["id"]
    pg = ids["postgres"]
    call("GET", "/api/v1/data-connections")
    call("GET", "/api/v1/data-connections", params={"limit": 2, "sortBy": "CREATED_AT"})
    call("GET", "/api/v1/workspace/connections")
    for connection_id in ids.values():
        assert call("GET", f"/api/v1/data-connections/{connection_id}").status_code == 200
        assert call("GET", f"/api/v1/workspace/connections/{connection_id}").status_code == 200
    new_secret = {"connectionDetails": {"postgres": {"password": PG_NEW_PASSWORD}}}
    assert call("PATCH", f"/api/v1/data-connections/{pg}", json=new_secret).status_code == 201
    rename = {"name": "renamed", "connectionDetails": {"postgres": {"port": 6432}}}
    assert call("PATCH", f"/api/v1/workspace/connections/{pg}", json=rename).status_code == 201
    retype = {"type": "mysql", "connectionDetails": {"mysql": CONNECTIONS["mysql"]}}
    assert call("PATCH", f"/api/v1/data-connections/{ids['trino']}", json=retype).status_code == 201
    outsider = personal_token(client, new_user(client, "o@example.com", role="EDITOR")["id"])
    bad_requests(call, pg, outsider)
    assert call("DELETE", f"/api/v1/data-connections/{ids['athena']}").status_code == 204
    call("GET", "/openapi.json")

    # The secrets are stored, and the worker's resolver gives them back.
    resolved = runtime.services.connections.resolve_for_run(pg)
    assert resolved["type"] == "postgres" and resolved["details"]["password"] == PG_NEW_PASSWORD
    redshift = runtime.services.connections.resolve_for_run(ids["redshift"])["details"]
    assert redshift["sslRootCert"] == RS_CERT and redshift["password"] == RS_PASSWORD

    answers = b"\n".join(call.answers)
    logs = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    stored = raw_database(database_url)
    # The searches reach where the secrets would be: the error answers, the service's log
    # lines, and the sealed values (Fernet tokens start "gAAAAA") beside the plain details.
    assert b"Invalid connection details" in answers and b'"code":"FORBIDDEN"' in answers
    assert "data connection" in logs
    assert b"gAAAAA" in stored and b"analyst" in stored
    for secret in SECRETS:
        assert secret.encode() not in answers, f"{secret} in an API answer"
        assert secret not in logs, f"{secret} in the logs"
        assert secret.encode() not in stored, f"{secret} in the database"


def test_a_wrong_server_key_gives_a_clear_error_not_a_crash(
    client: TestClient, runtime: Runtime
) -> None:
    created = new_connection(client)
    other = ConnectionService(
        runtime.db, SecretBox(b"another server key"), lambda: datetime.now(UTC)
    )
    with pytest.raises(SecretsUnreadable) as caught:
        other.resolve_for_run(created["id"])
    assert created["id"] in caught.value.message
    assert "pg-secret-0001" not in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert status_of(caught.value) == 422
    # Reading and editing need no decryption, so a changed key does not lock anyone out,
    # and entering the secret again under the new key makes the connection usable.
    assert client.get(f"/api/v1/data-connections/{created['id']}").status_code == 200


def test_entering_a_secret_again_under_a_new_key_repairs_the_connection(
    client: TestClient, runtime: Runtime
) -> None:
    created = new_connection(client)
    other = ConnectionService(
        runtime.db, SecretBox(b"another server key"), lambda: datetime.now(UTC)
    )
    admin = runtime.services.identity.authenticate(client.headers["Authorization"])
    other.update(admin, created["id"], {"connection_details": {"postgres": {"password": "again"}}})
    assert other.resolve_for_run(created["id"])["details"]["password"] == "again"


def test_sealing_is_randomised_and_keyed_by_the_server_key() -> None:
    box = SecretBox(b"server key")
    first, second = box.seal("hunter2"), box.seal("hunter2")
    assert first != second and "hunter2" not in first
    assert box.open(first, what="x") == "hunter2"
    assert SecretBox(b"server key").open(second, what="x") == "hunter2"
    with pytest.raises(SecretsUnreadable):
        SecretBox(b"server key!").open(first, what="x")
    with pytest.raises(SecretsUnreadable):
        box.open(first[:-4] + "AAAA", what="x")
    assert "server key" not in repr(box)
