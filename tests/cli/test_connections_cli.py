"""`runyard connections …` against a real `runyard serve` process: secrets go in through
the environment, a prompt or a file, and come out nowhere (output, server log, database)."""

from __future__ import annotations

import os
import re

import pytest
from tests.servers import Server, cli

pytestmark = [pytest.mark.slow]

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PASSWORD = "cli-pg-pass-M3nB7vC2"
PROMPTED = "cli-prompted-X8zL4kJ1"
CERT = "cli-cert-file-P5oI2uY9"


def test_an_admin_manages_a_connection_and_its_secrets_never_show(
    server: Server, tmp_path: os.PathLike[str]
) -> None:
    outputs = []
    out = cli(
        server,
        "connections",
        "create",
        "--type",
        "postgres",
        "--name",
        "Warehouse",
        "-d",
        "hostname=db.internal",
        "-d",
        "port=5432",
        "-d",
        "database=sales",
        "-d",
        "username=analyst",
        "--secret",
        "password",
        env={"RUNYARD_CONNECTION_PASSWORD": PASSWORD},
    )
    outputs.append(out)
    match = re.search(UUID, out)
    assert match, out
    connection_id = match.group(0)
    assert "port=5432" in out

    outputs.append(
        cli(server, "connections", "update", connection_id, "--secret", "password", stdin=PROMPTED)
    )
    cert = os.path.join(tmp_path, "root.crt")
    with open(cert, "w") as handle:
        handle.write(CERT)
    redshift = cli(
        server,
        "connections",
        "create",
        "--type",
        "redshift",
        "--name",
        "Cluster",
        "-d",
        "host=cluster",
        "-d",
        "port=5439",
        "-d",
        "database=d",
        "-d",
        "username=u",
        "--secret-file",
        f"sslRootCert={cert}",
        "--secret",
        "password",
        env={"RUNYARD_CONNECTION_PASSWORD": PASSWORD},
    )
    outputs.append(redshift)
    outputs.append(cli(server, "connections", "update", connection_id, "--name", "Renamed"))
    listed = cli(server, "connections", "list")
    outputs += [listed, cli(server, "connections", "list", "--json")]
    assert "Renamed" in listed and "Cluster" in listed
    outputs.append(cli(server, "connections", "delete", connection_id, "--yes"))
    assert "Renamed" not in cli(server, "connections", "list")

    log = (server.home.parent / f"serve-{server.port}.log").read_text()
    stored = b"".join(p.read_bytes() for p in server.home.rglob("*.db*"))
    assert b"gAAAAA" in stored  # the sealed secrets are there, so the search reaches them
    for secret in (PASSWORD, PROMPTED, CERT):
        assert all(secret not in out for out in outputs)
        assert secret not in log
        assert secret.encode() not in stored


def test_the_sql_cache_lifetime_is_set_on_create_and_update(server: Server) -> None:
    created = cli(
        server,
        "connections",
        "create",
        "--type",
        "sqlite",
        "--name",
        "Shop",
        "-d",
        "path=/srv/shop.db",
        "--cache-lifetime",
        "0",
    )
    match = re.search(UUID, created)
    assert match, created
    assert "SQL cache 0s" in created

    updated = cli(server, "connections", "update", match.group(0), "--cache-lifetime", "600")

    assert "SQL cache 600s" in updated
