"""The SQL result cache's store side, on SQLite and PostgreSQL: who may read a kept result,
how long it lives, and the size bound, pruned when results are kept and by the upkeep."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.cast import new_connection, new_group, new_user

from runyard.app import Runtime
from runyard.kernel.sql_cache import CacheKey
from runyard.kernel.sql_cells import QueryResult, SqlCellError
from runyard.services.sql_cache import SqlCacheService
from runyard.store.sql_cache import total_bytes

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RESULT = QueryResult(rows=1, columns=1, truncated=False, seconds=0.0)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def connection(client: TestClient, lifetime: int = 300, **body: Any) -> str:
    created = new_connection(
        client,
        name=f"shop-{lifetime}-{len(body)}",
        type="sqlite",
        connectionDetails={"sqlite": {"path": "/nowhere/shop.db"}},
        cacheLifetimeSeconds=lifetime,
        **body,
    )
    ident: str = created["id"]
    return ident


def admin_id(client: TestClient) -> str:
    """An admin's id: admins may query every connection."""
    ident: str = new_user(client, f"admin-{uuid.uuid4().hex[:8]}@example.com", "ADMIN")["id"]
    return ident


def kept_bytes(runtime: Runtime) -> int:
    with runtime.db.read() as session:
        return total_bytes(session)


def key(connection_id: str, region: str = "south") -> CacheKey:
    return CacheKey(connection_id, "select * from sales where r = {{ r }}", {"r": region}, 100)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache_of(runtime: Runtime, clock: Clock) -> Callable[[int], SqlCacheService]:
    return lambda max_bytes: SqlCacheService(runtime.db, clock, max_bytes)


def test_a_kept_result_reaches_only_requesters_who_may_query_the_connection(
    client: TestClient, cache_of: Callable[[int], SqlCacheService]
) -> None:
    members_may_not = {"workspace": {"members": "VIEW_RESULTS"}}
    ident = connection(client, sharing=members_may_not)
    cache = cache_of(10_000)
    cache.keep(key(ident), b"rows", RESULT)
    outsider = new_user(client, "outsider@example.com")["id"]
    analyst = new_user(client, "analyst@example.com")["id"]
    granted = new_group(client, "analysts", [analyst])
    edited = client.patch(
        f"/api/v1/data-connections/{ident}",
        json={"sharing": {"groups": {"upsert": [{"group": {"id": granted}, "access": "QUERY"}]}}},
    )
    assert edited.status_code == 201, edited.text

    found = cache.lookup(admin_id(client), key(ident))
    assert found is not None and found.content == b"rows"
    found = cache.lookup(analyst, key(ident))
    assert found is not None and found.content == b"rows"
    for requester in (outsider, None):
        with pytest.raises(SqlCellError, match="needs QUERY access"):
            cache.lookup(requester, key(ident))
    deactivated = client.post(f"/api/v1/users/{analyst}/deactivate")
    assert deactivated.status_code == 200, deactivated.text
    with pytest.raises(SqlCellError, match="no cached result is shown"):
        cache.lookup(analyst, key(ident))


def test_a_result_is_reused_until_its_connections_lifetime_has_passed(
    client: TestClient, cache_of: Callable[[int], SqlCacheService], clock: Clock
) -> None:
    ident = connection(client, lifetime=60)
    cache = cache_of(10_000)
    admin = admin_id(client)
    cache.keep(key(ident), b"rows", RESULT)

    clock.now = START + timedelta(seconds=59)
    found = cache.lookup(admin, key(ident))
    assert found is not None
    assert (found.age_seconds, found.lifetime_seconds, found.queried_at) == (59, 60, START)
    assert cache.lookup(admin, key(ident, "north")) is None

    clock.now = START + timedelta(seconds=60)
    assert cache.lookup(admin, key(ident)) is None


def test_results_past_the_size_bound_go_longest_queried_first(
    client: TestClient, cache_of: Callable[[int], SqlCacheService], clock: Clock
) -> None:
    ident = connection(client)
    cache = cache_of(250)
    admin = admin_id(client)
    for minute, region in enumerate(("north", "south", "east")):
        clock.now = START + timedelta(minutes=minute)
        said = cache.keep(key(ident, region), b"x" * 100, RESULT)
        assert said.startswith("result kept"), said

    assert cache.lookup(admin, key(ident, "north")) is None
    assert cache.lookup(admin, key(ident, "south")) is not None
    assert cache.lookup(admin, key(ident, "east")) is not None


def test_a_result_larger_than_the_whole_cache_is_not_kept(
    client: TestClient, cache_of: Callable[[int], SqlCacheService]
) -> None:
    ident = connection(client)
    cache = cache_of(99)

    said = cache.keep(key(ident), b"x" * 100, RESULT)

    assert "not kept" in said and "RUNYARD_SQL_CACHE_MAX_MB" in said
    assert cache.lookup(admin_id(client), key(ident)) is None


def test_upkeep_deletes_expired_results_and_shrinks_the_cache_to_its_bound(
    client: TestClient, cache_of: Callable[[int], SqlCacheService], clock: Clock
) -> None:
    short = connection(client, lifetime=60)
    long = connection(client, lifetime=3600, description="long")
    roomy = cache_of(10_000)
    roomy.keep(key(short), b"x" * 100, RESULT)
    for minute, region in enumerate(("north", "south", "east"), start=1):
        clock.now = START + timedelta(minutes=minute)
        roomy.keep(key(long, region), b"x" * 100, RESULT)
    tight = cache_of(250)

    assert tight.upkeep(START + timedelta(minutes=5)) is True

    admin = admin_id(client)
    clock.now = START + timedelta(minutes=5)
    assert roomy.lookup(admin, key(short)) is None  # expired
    assert roomy.lookup(admin, key(long, "north")) is None  # the oldest past the bound
    assert roomy.lookup(admin, key(long, "south")) is not None
    assert roomy.lookup(admin, key(long, "east")) is not None
    # A pass a minute: the next tick's upkeep has nothing to do yet.
    assert tight.upkeep(START + timedelta(minutes=5, seconds=1)) is False


def test_the_schedulers_tick_prunes_expired_results(
    client: TestClient,
    runtime: Runtime,
    cache_of: Callable[[int], SqlCacheService],
    clock: Clock,
) -> None:
    # Real time: the app's own scheduler thread ticks meanwhile, with the real clock.
    clock.now = datetime.now(UTC)
    ident = connection(client, lifetime=600)
    cache_of(10_000).keep(key(ident), b"rows", RESULT)

    runtime.scheduler.tick(clock.now + timedelta(minutes=20))

    assert kept_bytes(runtime) == 0


def test_new_connection_details_or_a_delete_forget_the_kept_results(
    client: TestClient, runtime: Runtime, cache_of: Callable[[int], SqlCacheService]
) -> None:
    ident = connection(client)
    cache = cache_of(10_000)
    admin = admin_id(client)
    cache.keep(key(ident), b"rows", RESULT)
    renamed = client.patch(f"/api/v1/data-connections/{ident}", json={"name": "renamed"})
    assert renamed.status_code == 201
    assert cache.lookup(admin, key(ident)) is not None

    moved = client.patch(
        f"/api/v1/data-connections/{ident}",
        json={"connectionDetails": {"sqlite": {"path": "/elsewhere/shop.db"}}},
    )
    assert moved.status_code == 201, moved.text
    assert cache.lookup(admin, key(ident)) is None

    cache.keep(key(ident), b"rows", RESULT)
    assert kept_bytes(runtime) == 4
    assert client.delete(f"/api/v1/data-connections/{ident}").status_code == 204
    assert kept_bytes(runtime) == 0
