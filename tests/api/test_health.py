"""GET /healthz and /readyz: no token, no secrets, and the truth about the store.

"The store down" is a PostgreSQL database that is dropped under a running `runyard serve`
(and created and migrated again for "up"): the machine's PostgreSQL server is shared with
other tests, so it is never stopped. A second case points readiness at a port on which
nothing listens, which is what a stopped server looks like to a client.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runyard.app import Runtime, build_runtime, create_app
from runyard.config import Settings
from runyard.services.operations import HealthService
from runyard.store.db import Database, upgrade
from tests.conftest import PG_ADMIN_URL, _pg_available, service_missing
from tests.servers import free_port, serving


def test_healthz_answers_without_a_token(client: TestClient) -> None:
    answer = client.get("/healthz", headers={"Authorization": ""})
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_store_with_a_ticking_scheduler(client: TestClient) -> None:
    answer = client.get("/readyz", headers={"Authorization": ""})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "status": "ready",
        "checks": {"store": "ok", "migrations": "ok", "broker": "not used", "scheduler": "ok"},
    }


def test_readyz_is_not_ready_when_the_store_is_behind_the_code(
    client: TestClient, runtime: Runtime
) -> None:
    # Stamped back, not downgraded: the PostgreSQL database is the session's, and the
    # tables stay as they are for the tests that follow.
    engine = sa.create_engine(runtime.settings.resolved_database_url)
    try:
        with engine.begin() as conn:
            (head,) = conn.execute(sa.text("SELECT version_num FROM alembic_version")).one()
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
        answer = client.get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"] == "not at head"
    assert answer.json()["checks"]["store"] == "ok"


def test_readyz_is_not_ready_when_the_scheduler_loop_stalls(runtime: Runtime) -> None:
    runtime.heartbeat.started()
    stalled = HealthService(runtime.db, None, runtime.heartbeat, stale_after_seconds=0.0)
    time.sleep(0.01)
    assert stalled.readiness().checks["scheduler"] == "stalled"
    assert not stalled.readiness().ready


def test_readyz_says_unreachable_for_a_store_on_a_closed_port() -> None:
    closed = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/runyard")
    try:
        readiness = HealthService(closed).readiness()
    finally:
        closed.dispose()
    assert not readiness.ready
    assert readiness.checks == {
        "store": "unreachable",
        "migrations": "unknown",
        "broker": "not used",
        "scheduler": "not used",
    }


@pytest.mark.redis
def test_readyz_checks_the_broker_of_the_celery_executor(
    settings_values: dict[str, Any],
) -> None:
    for broker, verdict, status in [
        ("redis://127.0.0.1:6379/0", "ok", 200),
        (f"redis://127.0.0.1:{free_port()}/0", "unreachable", 503),
    ]:
        settings = Settings(**settings_values, executor="celery", broker_url=broker)
        runtime = build_runtime(settings, migrate=False)
        try:
            with TestClient(create_app(runtime, background=False)) as client:
                answer = client.get("/readyz")
        finally:
            runtime.db.dispose()
        assert answer.json()["checks"]["broker"] == verdict
        assert answer.status_code == status
        assert "6379" not in answer.text and "redis" not in answer.text


@pytest.fixture
def own_postgres_database() -> Iterator[tuple[str, str]]:
    """A PostgreSQL database of this test's own (name, URL), dropped at the end if still there."""
    problem = _pg_available()
    if problem is not None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"runyard_readyz_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _drop(admin, name)
        admin.dispose()


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        # FORCE ends the server's connections as it drops (PostgreSQL 13 and later).
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.postgres
@pytest.mark.slow
def test_a_server_whose_store_goes_down_is_alive_but_not_ready_until_it_returns(
    tmp_path: Path, own_postgres_database: tuple[str, str]
) -> None:
    name, url = own_postgres_database
    with serving(tmp_path / "home", RUNYARD_DATABASE_URL=url) as server:
        anonymous = {"Authorization": ""}
        assert server.http.get("/readyz", headers=anonymous).status_code == 200

        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            _drop(admin, name)
            down = server.http.get("/readyz", headers=anonymous)
            assert down.status_code == 503
            assert down.json()["checks"]["store"] == "unreachable"
            assert name not in down.text and "postgres" not in down.text.lower()
            assert server.http.get("/healthz", headers=anonymous).status_code == 200

            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        upgrade(url)
        deadline = time.monotonic() + 30
        while (up := server.http.get("/readyz", headers=anonymous)).status_code != 200:
            assert time.monotonic() < deadline, up.text
            time.sleep(0.2)
        assert up.json()["status"] == "ready"
