"""Secrets appear nowhere but where they go in: no answer, page, CLI output, log line, audit
row or database row holds one.

Data connections are created with known secrets (tests/services/test_connection_secrets.py
has them and the connection endpoints' own checks), and API tokens are created, used and
revoked. Then every GET route of the app (walked from the app, so a new one is included) is
called with real ids, the audit log is read page by page, and the web UI's pages are opened
signed in. Everything received, every log record at DEBUG, the audit rows and the raw
database are searched for every secret. A token's secret may appear in exactly one place:
the answer that created it.

The second test does the same from outside: the `runyard` CLI against a real `runyard serve`
process, whose log and database files are searched too.
"""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runyard.app import Runtime
from tests.api.test_bad_input import api_routes, walk_routes
from tests.cast import bearer, one_of_everything, postgres_details, wait_for_end
from tests.conftest import BOOTSTRAP_TOKEN
from tests.servers import RUNYARD, TOKEN, Server, free_port
from tests.services.test_connection_secrets import (
    CONNECTIONS,
    PG_NEW_PASSWORD,
    SECRETS,
    Recorder,
    bad_requests,
    raw_database,
)
from tests.web.conftest import sign_in

# A token nobody issued: sent to sign in and as a bearer token, and never to be echoed.
FORGED_TOKEN = "hxtw_forged-token-F7gH2jK5lQ9w"
SEEDED_PASSWORD = postgres_details()["postgres"]["password"]  # tests/cast.py's default
_PATH_PARAM = re.compile(r"{(\w+)}")


def _fill(path: str, ids: dict[str, str]) -> str:
    return _PATH_PARAM.sub(lambda found: ids[found.group(1)], path)


# GET routes whose seeded answer is a 404 by design: the seeded cells show no table, so the
# cell has no output in Hex's sense. Their answers are searched all the same.
NOT_FOUND_WHEN_SEEDED = {"/api/v1/cells/{cellId}/output"}


def _every_get(call: Recorder, app: Any, ids: dict[str, str]) -> int:
    """Call every GET route of the API once plainly and once with each boolean query switch
    on; each must answer (a 4xx would make the search vacuous). The number of calls."""
    calls = 0
    for route in api_routes(app):
        if route.method != "GET":
            continue
        url = _fill(route.path, ids)
        switches = [p.alias for p in route.query_params if p.field_info.annotation is bool]
        headers = {p.alias: "true" for p in route.header_params if p.field_info.annotation is bool}
        # A required query parameter (GET /cells?projectId=…) gets the seeded id of its name.
        required = {p.alias: ids[p.alias] for p in route.query_params if p.field_info.is_required()}
        for params in [{}, *({name: "true"} for name in switches)]:
            response = call("GET", url, params={**required, **params}, headers=headers)
            expected = 404 if route.path in NOT_FOUND_WHEN_SEEDED else 200
            assert response.status_code == expected, f"GET {url} {params}: {response.text[:300]}"
            calls += 1
    return calls


def _audit_pages(call: Recorder) -> int:
    """Read the whole audit log, five events a page; the number of events."""
    events, after = 0, None
    while True:
        params: dict[str, Any] = {"limit": 5, **({"after": after} if after else {})}
        page = call("GET", "/api/v1/audit", params=params).json()
        events += len(page["values"])
        after = page["pagination"]["after"]
        if after is None:
            return events


def _web_pages(
    app: Any, ids: dict[str, str], tokens: list[str], embed_query: str, embedded: tuple[str, str]
) -> list[bytes]:
    """Every page of the web UI (GET routes outside the API), signed in with each token, plus
    a refused sign-in with a forged one: each answer as bytes. The embedded app's pages are
    opened with `embed_query`, a presigned URL's query; those of the run a URL's inputs
    started with `embedded`, that run's id and the query its page refreshes with."""
    pages = [
        route.path
        for route in walk_routes(app.routes)
        if not route.path.startswith("/api/") and "GET" in (getattr(route, "methods", None) or ())
    ]
    assert "/app/projects/{projectId}/runs/{runId}" in pages
    answers = []
    for token in [*tokens, FORGED_TOKEN]:
        with TestClient(app, follow_redirects=False) as browser:
            signed = sign_in(browser, token=token)
            answers.append(_as_bytes(signed))
            if token == FORGED_TOKEN:
                assert signed.status_code == 401
                continue
            assert signed.status_code == 303, signed.text
            for path in pages:
                filled = _fill(path, ids)
                if path.startswith("/embed/{projectId}/runs/{runId}"):
                    filled = _fill(path, {**ids, "runId": embedded[0]}) + f"?{embedded[1]}"
                elif path.startswith("/embed/"):
                    filled += f"?{embed_query}"
                response = browser.get(filled)
                assert response.status_code < 400, f"GET {path}: {response.status_code}"
                answers.append(_as_bytes(response))
    return answers


def _embedded_run(call: Recorder, client: TestClient, project_id: str) -> tuple[str, str]:
    """Open a presigned URL with other inputs than the published ones; once the run it
    started has ended, return its id and the query its page refreshes with."""
    body = {"inputParameters": {"n": 2}}
    presigned = call("POST", f"/api/v1/embedding/createPresignedUrl/{project_id}", json=body)
    assert presigned.status_code == 200, presigned.text
    parts = urlsplit(presigned.json()["url"])
    opened = client.get(f"{parts.path}?{parts.query}")
    refresh = re.search(r'url=/embed/[^/]+/runs/([0-9a-f-]{36})\?([^"]+)"', opened.text)
    assert refresh is not None, opened.text
    wait_for_end(client, project_id, refresh.group(1))
    return refresh.group(1), html.unescape(refresh.group(2))


def _as_bytes(response: Any) -> bytes:
    headers = "".join(f"{k}: {v}\n" for k, v in response.headers.items())
    return f"{response.status_code}\n{headers}".encode() + response.content


def _audit_rows(runtime: Runtime) -> str:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_events")).all()
    assert rows
    return "\n".join(repr(tuple(row)) for row in rows)


def test_no_answer_page_log_audit_row_or_database_row_holds_a_secret(
    client: TestClient, runtime: Runtime, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ids = one_of_everything(client)  # its connection's password is SEEDED_PASSWORD
    call = Recorder(client)
    connection_ids = {}
    for kind, details in CONNECTIONS.items():
        body = {"name": f"{kind} conn", "type": kind, "connectionDetails": {kind: details}}
        created = call("POST", "/api/v1/data-connections", json=body)
        assert created.status_code == 201, created.text
        connection_ids[kind] = created.json()["id"]
    pg = connection_ids["postgres"]
    rotate = {"connectionDetails": {"postgres": {"password": PG_NEW_PASSWORD}}}
    assert call("PATCH", f"/api/v1/data-connections/{pg}", json=rotate).status_code == 201

    # Tokens: the answer that creates one is the only place its secret may appear.
    creating: list[bytes] = []
    made: list[dict[str, Any]] = []
    for body in (
        {"type": "PERSONAL", "userId": ids["userId"], "description": "seeded's"},
        {"type": "WORKSPACE", "scopes": ["projects:read", "users:read"], "expiresAt": None},
        {"type": "WORKSPACE", "scopes": ["projects:read"], "description": "to revoke"},
    ):
        response = call("POST", "/api/v1/tokens", json=body)
        assert response.status_code == 201, response.text
        creating.append(call.answers.pop())
        made.append(response.json())
    personal, workspace, revoked = (token["token"] for token in made)
    assert call("DELETE", f"/api/v1/tokens/{made[2]['id']}").status_code == 204
    for token in (personal, workspace):
        assert call("GET", "/api/v1/users/me", headers=bearer(token)).status_code == 200
    for token in (revoked, FORGED_TOKEN):
        assert call("GET", "/api/v1/users/me", headers=bearer(token)).status_code == 401
    bad_requests(call, pg, personal)  # the seeded user is an editor: an outsider to connections
    # Shared with the seeded user, so that their signed-in pages show the project and its run.
    share = {
        "sharing": {"upsert": {"users": [{"user": {"id": ids["userId"]}, "access": "CAN_VIEW"}]}}
    }
    shared = call("PATCH", f"/api/v1/projects/{ids['projectId']}/sharing/users", json=share)
    assert shared.status_code == 200, shared.text

    gets = _every_get(call, client.app, ids)
    events = _audit_pages(call)
    call("GET", "/openapi.json")
    call("GET", "/docs")
    presigned = call("POST", f"/api/v1/embedding/createPresignedUrl/{ids['projectId']}", json={})
    assert presigned.status_code == 200, presigned.text
    embed_query = urlsplit(presigned.json()["url"]).query
    embedded = _embedded_run(call, client, ids["projectId"])
    pages = _web_pages(client.app, ids, [BOOTSTRAP_TOKEN, personal], embed_query, embedded)

    answers = b"\n".join(call.answers + pages)
    logs = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    audit = _audit_rows(runtime)
    stored = raw_database(database_url)
    # The searches reach where the secrets would be: the connection answers and pages, the
    # audit of connection and token changes, and the sealed secrets beside plain details.
    assert gets >= 25 and events >= 10 and len(pages) >= 10
    assert b'"username":"analyst"' in answers and b"admin@runyard.local" in b"".join(pages)
    assert "connection.create" in audit and "token.create" in audit and "token.revoke" in audit
    assert "data connection" in logs
    assert b"gAAAAA" in stored and b"analyst" in stored
    token_secrets = [token["token"] for token in made]
    for secret in [*SECRETS, SEEDED_PASSWORD, *token_secrets, BOOTSTRAP_TOKEN, FORGED_TOKEN]:
        assert secret.encode() not in answers, f"{secret} in an answer or page"
        assert secret not in logs, f"{secret} in the logs"
        assert secret not in audit, f"{secret} in the audit log"
        assert secret.encode() not in stored, f"{secret} in the database"
    for answer, secret in zip(creating, token_secrets, strict=True):
        assert answer.count(secret.encode()) == 1, "a token's secret is in its creating answer"


# -- from outside: the CLI against a real server ---------------------------------------------

CLI_PASSWORD = "cli-secret-pass-B4vN8mQ2"
CLI_PROMPTED = "cli-secret-prompt-J6kL1zX9"
CLI_KEY = "cli-secret-keyfile-T3rE7wY5"
CLI_REJECTED = "cli-secret-rejected-P0oI9uU8"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TOKEN_SECRET = re.compile(r"hxt[pw]_[A-Za-z0-9_\-]{20,}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "home", free_port(), RUNYARD_LOG_LEVEL="debug")
    running.start()
    yield running
    running.stop()
    running.http.close()


class Cli:
    """Runs `runyard …` against the server and keeps everything it printed."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.outputs: list[str] = []

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, stdin: str = "", expect: int = 0
    ) -> str:
        done = subprocess.run(
            [str(RUNYARD), *args],
            env={
                **os.environ,
                "RUNYARD_URL": f"http://127.0.0.1:{self.server.port}",
                "RUNYARD_TOKEN": TOKEN,
                "COLUMNS": "250",
                "NO_COLOR": "1",
                **(env or {}),
            },
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            # No controlling terminal: a hidden prompt reads the piped stdin.
            start_new_session=True,
        )
        output = done.stdout + done.stderr
        assert done.returncode == expect, output
        self.outputs.append(output)
        return output


@pytest.mark.slow
def test_the_cli_a_served_process_its_log_and_its_database_hold_no_secret(
    server: Server, tmp_path: Path
) -> None:
    cli = Cli(server)
    postgres = [
        *("--type", "postgres", "--name", "Warehouse", "-d", "hostname=db.internal"),
        *("-d", "port=5432", "-d", "database=sales", "-d", "username=analyst"),
    ]
    created = cli(
        "connections",
        "create",
        *postgres,
        "--secret",
        "password",
        env={"RUNYARD_CONNECTION_PASSWORD": CLI_PASSWORD},
    )
    found = re.search(UUID, created)
    assert found, created
    connection_id = found.group(0)
    key_file = tmp_path / "key.p8"
    key_file.write_text(CLI_KEY)
    cli(
        "connections",
        "create",
        *("--type", "snowflake", "--name", "Lake", "-d", "username=u", "-d", "database=D"),
        *("-d", "warehouse=W", "-d", "accountName=acme", "--secret", "passphrase"),
        *("--secret-file", f"privateKey={key_file}"),
        env={"RUNYARD_CONNECTION_PASSPHRASE": CLI_PASSWORD},
    )
    cli("connections", "update", connection_id, "--secret", "password", stdin=CLI_PROMPTED)
    cli("connections", "update", connection_id, "--name", "Renamed", "--description", "Sales")
    # Refused by the server: details without a username beside a secret, and a secret for
    # a connection that does not exist.
    cli(
        "connections",
        "create",
        *("--type", "postgres", "--name", "Nameless", "-d", "hostname=db.internal"),
        *("-d", "port=5432", "-d", "database=sales"),
        "--secret",
        "password",
        env={"RUNYARD_CONNECTION_PASSWORD": CLI_REJECTED},
        expect=1,
    )
    cli(
        "connections",
        "update",
        "00000000-0000-4000-8000-000000000000",
        "--type",
        "postgres",
        "--secret",
        "password",
        env={"RUNYARD_CONNECTION_PASSWORD": CLI_REJECTED},
        expect=1,
    )
    listed = cli("connections", "list")
    cli("connections", "list", "--json", "--sort", "CREATED_AT")
    assert "Renamed" in listed and "Lake" in listed

    # Tokens: each secret shows in the output that created it, and nowhere else.
    user = cli("users", "create", "cli-user@example.com", "--role", "editor")
    user_id = re.search(UUID, user)
    assert user_id, user
    made = [
        cli("tokens", "create", "--type", "workspace", "-s", "projects:read", "--never-expires"),
        cli("tokens", "create", "--type", "personal", "--user-id", user_id.group(0)),
    ]
    token_secrets = [_one_secret(out) for out in made]
    creating_outputs = list(cli.outputs[-2:])
    del cli.outputs[-2:]
    cli("users", "me", env={"RUNYARD_TOKEN": token_secrets[1]})
    cli("projects", "list", env={"RUNYARD_TOKEN": token_secrets[0]})
    cli("tokens", "list")
    cli("users", "list")
    cli("groups", "list")
    cli("collections", "list")
    cli("audit", "--limit", "200")
    cli("connections", "delete", connection_id, "--yes")
    cli("users", "me", env={"RUNYARD_TOKEN": "hxtw_not-a-token-Q1w2E3r4T5y6"}, expect=1)

    server.stop()  # flush the log and the database before reading them
    log = (server.home.parent / f"serve-{server.port}.log").read_text()
    stored = b"".join(path.read_bytes() for path in server.home.rglob("*.db*"))
    printed = "\n".join(cli.outputs)
    assert "analyst" in printed and "connection.create" in printed
    assert "GET /api/v1/data-connections" in log, "the log records requests, so it is searched"
    assert b"gAAAAA" in stored
    secrets = [CLI_PASSWORD, CLI_PROMPTED, CLI_KEY, CLI_REJECTED, TOKEN, *token_secrets]
    for secret in secrets:
        assert secret not in printed, f"{secret} printed by the CLI"
        assert secret not in log, f"{secret} in the server's log"
        assert secret.encode() not in stored, f"{secret} in the database"
    for output, secret in zip(creating_outputs, token_secrets, strict=True):
        assert output.count(secret) == 1


def _one_secret(output: str) -> str:
    found = TOKEN_SECRET.findall(output)
    assert len(found) == 1, output
    secret: str = found[0]
    return secret
