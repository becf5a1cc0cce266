"""Shared fixtures: a real database per test (SQLite and PostgreSQL), a real app, a cast.

PostgreSQL tests need the server on 127.0.0.1:5432. With CI=true a missing server is a
failure; elsewhere those tests are skipped with a clear message.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runyard.app import Runtime, build_runtime, create_app
from runyard.config import DEFAULT_RATE_LIMITS, UNLIMITED, Settings
from runyard.store import metadata
from runyard.store.db import upgrade

PG_ADMIN_URL = os.environ.get(
    "RUNYARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_available() -> str | None:
    """None if PostgreSQL answers, else the reason it does not."""
    engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return None
    except Exception as error:
        return str(error).splitlines()[0]
    finally:
        engine.dispose()


def service_missing(message: str) -> NoReturn:
    """Skip the test because a service it needs is missing; with CI=true, fail it instead."""
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh, migrated database on the PostgreSQL server, dropped after the session."""
    problem = _pg_available()
    if problem is not None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"runyard_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated store: an SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "runyard.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_server_url")
    _truncate_all(url)
    return url


BOOTSTRAP_TOKEN = "hxtw_test-bootstrap-token-0123456789abcdef"

# The default limits, as users meet them (reads uncounted, so status polls are answered by
# api/status_polls.py), except that tests trigger hundreds of runs with one token: a limit far
# above that keeps the counting of triggers running without throttling anyone.
# tests/api/test_rate_limits.py sets low limits of its own.
GENEROUS_RATE_LIMITS = {
    group: limit if limit == UNLIMITED else "100000/minute"
    for group, limit in DEFAULT_RATE_LIMITS.items()
}


@pytest.fixture
def settings_values(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "home": tmp_path / "home",
        "database_url": database_url,
        "bootstrap_token": BOOTSTRAP_TOKEN,
        "public_url": "http://127.0.0.1:8080",
        "max_concurrent_kernels": 2,
        "secret_key": "test-secret-key",
        "rate_limits": GENEROUS_RATE_LIMITS,
        # A test's app stops at once, killing what still runs (tests of the grace pass theirs).
        "shutdown_grace_seconds": 0,
        # Most in-process tests look at the API, not at kernels: no pool to fill for each
        # of them. The run lifecycle tests (cancel, SQL cells) turn it on, and every real `runyard
        # serve` in the suite runs with the default pool.
        "kernel_pool_size": 0,
    }


@pytest.fixture
def runtime(settings_values: dict[str, Any]) -> Iterator[Runtime]:
    built = build_runtime(Settings(**settings_values), migrate=False)
    yield built
    built.db.dispose()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(
        create_app(runtime), headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
    ) as test_client:
        yield test_client
