"""Per-token rate limits (contract §4, §16 Q6): 429 with `Retry-After` over a limit.

By default only run triggers are limited, far above what a deployment sends; Hex's own limits
are the `hex` preset. Each test of the mechanics sets low limits of its own; the rest of the
suite runs with generous ones. tests/compat/test_default_limits.py drives the published
clients through a long run against a server with the defaults.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from runyard.api.rate_limits import GROUP_OF, RateLimiter, group_of
from runyard.app import Runtime, build_runtime, create_app
from runyard.client import ApiError, RunyardClient
from runyard.config import Settings
from runyard.domain.permissions import ALL_SCOPES, TokenType
from runyard.services.tokens import TokenRequest
from tests.cast import bearer, notebook, published_project, wait_for_end
from tests.conftest import BOOTSTRAP_TOKEN, service_missing
from tests.servers import EXAMPLE, TOKEN, Server, serving

SUPERSET_KEYS = {"code", "message", "issues", "reason", "details", "traceId"}
REDIS_URL = os.environ.get("RUNYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

AppFactory = Callable[..., TestClient]


@pytest.fixture
def limited_app(settings_values: dict[str, Any]) -> Iterator[AppFactory]:
    """Builds apps on the test's database with the given settings (`rate_limits` first), each
    with its own runtime; every app made is closed at the end of the test."""
    with ExitStack() as stack:

        def make(
            rate_limits: dict[str, str] | str, *, background: bool = False, **settings: Any
        ) -> TestClient:
            values = {**settings_values, "rate_limits": rate_limits, **settings}
            runtime = build_runtime(Settings(**values), migrate=False)
            stack.callback(runtime.db.dispose)
            client = TestClient(
                create_app(runtime, background=background),
                headers={"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
            )
            return stack.enter_context(client)

        yield make


def new_token(client: TestClient) -> str:
    """A second workspace token of the bootstrap admin, minted without spending a request of
    the bootstrap token's budget."""
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    admin = runtime.services.identity.authenticate(f"Bearer {BOOTSTRAP_TOKEN}")
    created = runtime.services.tokens.create(
        admin,
        TokenRequest(token_type=TokenType.WORKSPACE, scopes=[s.value for s in ALL_SCOPES]),
    )
    return created.secret


def use_up(client: TestClient, path: str, times: int, **headers: str) -> None:
    for _ in range(times):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text


def assert_rate_limited(response: Any, group: str) -> int:
    """Check a 429 answer and return its Retry-After."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= SUPERSET_KEYS
    assert body["code"] == "TOO_MANY_REQUESTS"
    assert group in body["message"] and body["reason"] == body["message"]
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert response.headers["X-RateLimit-Remaining"] == "0"
    return int(retry_after)


def test_over_the_limit_answers_429_with_the_superset_body_and_retry_after(
    limited_app: AppFactory,
) -> None:
    client = limited_app({"hex-api": "3/minute"})
    remaining = []
    for _ in range(3):
        response = client.get("/api/v1/projects")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]

    refused = client.get("/api/v1/projects")
    assert 1 <= assert_rate_limited(refused, "hex-api") <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert int(refused.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_answers_an_endpoint_builds_itself_carry_the_quota_headers_too(
    limited_app: AppFactory,
) -> None:
    client = limited_app({"hex-api": "5/minute"})
    group = client.post("/api/v1/groups", json={"name": "Short-lived"})
    assert group.status_code == 201
    deleted = client.delete(f"/api/v1/groups/{group.json()['id']}")
    assert deleted.status_code == 204
    assert deleted.headers["X-RateLimit-Remaining"] == "3"


def test_one_tokens_burst_leaves_another_token_alone(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "2/minute"})
    other = new_token(client)
    use_up(client, "/api/v1/projects", 2)
    assert_rate_limited(client.get("/api/v1/projects"), "hex-api")

    for _ in range(2):
        response = client.get("/api/v1/projects", headers=bearer(other))
        assert response.status_code == 200
    assert_rate_limited(client.get("/api/v1/projects", headers=bearer(other)), "hex-api")


def test_groups_are_counted_apart(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "1/minute", "hex-api-30rpm": "1/minute"})
    missing = uuid.uuid4()
    # Requests are counted before the endpoint runs, so unknown projects (404) count too.
    assert client.get(f"/api/v1/projects/{missing}").status_code == 404
    assert_rate_limited(client.get(f"/api/v1/projects/{missing}"), "hex-api")

    assert client.get("/api/v1/users/me").status_code == 200
    assert_rate_limited(client.get("/api/v1/users"), "hex-api-30rpm")
    assert client.post(f"/api/v1/projects/{missing}/runs", json={}).status_code == 404


@pytest.mark.kernel
def test_run_project_has_its_own_group_on_both_path_families(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "1000/minute", "hex-run-kernel": "2/minute"}, background=True)
    project_id = published_project(client, notebook("x = 1"))
    plural = client.post(f"/api/v1/projects/{project_id}/runs", json={})
    singular = client.post(f"/api/v1/project/{project_id}/run")
    assert (plural.status_code, singular.status_code) == (201, 201)
    assert plural.headers["X-RateLimit-Limit"] == "2"

    assert_rate_limited(client.post(f"/api/v1/project/{project_id}/run"), "hex-run-kernel")
    assert_rate_limited(
        client.post(f"/api/v1/projects/{project_id}/runs", json={}), "hex-run-kernel"
    )
    for run in (plural.json(), singular.json()):
        assert wait_for_end(client, project_id, run["runId"])["status"] == "COMPLETED"


def test_a_bad_token_gets_401_not_429(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "1/minute"})
    use_up(client, "/api/v1/projects", 1)
    assert_rate_limited(client.get("/api/v1/projects"), "hex-api")

    for headers in (bearer("hxtw_not-a-real-token"), {"Authorization": ""}):
        refused = client.get("/api/v1/projects", headers=headers)
        assert refused.status_code == 401
        assert "X-RateLimit-Limit" not in refused.headers


def test_unauthenticated_requests_are_not_counted(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "2/minute"})
    for _ in range(5):
        assert client.get("/api/v1/projects", headers={"Authorization": ""}).status_code == 401
    use_up(client, "/api/v1/projects", 2)


def test_the_limit_frees_up_once_the_window_has_passed(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "2/second"})
    use_up(client, "/api/v1/projects", 2)
    retry_after = assert_rate_limited(client.get("/api/v1/projects"), "hex-api")
    assert retry_after == 1

    deadline = time.monotonic() + 30
    while (response := client.get("/api/v1/projects")).status_code == 429:
        assert time.monotonic() < deadline, "the limit never freed up"
        time.sleep(0.2)
    assert response.status_code == 200


def test_configured_limits_replace_their_groups_defaults_only(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api-30rpm": "2/minute"})
    use_up(client, "/api/v1/users/me", 2)
    assert_rate_limited(client.get("/api/v1/users/me"), "hex-api-30rpm")

    # hex-api stays unlimited and RunProject keeps 600/minute;10000/hour, the tighter of
    # the two reported. A trigger of a missing project (404) counts all the same.
    assert "X-RateLimit-Limit" not in client.get("/api/v1/projects").headers
    triggered = client.post(f"/api/v1/projects/{uuid.uuid4()}/runs", json={})
    assert triggered.status_code == 404
    assert triggered.headers["X-RateLimit-Limit"] == "600"


def test_by_default_reads_and_other_writes_are_not_limited(limited_app: AppFactory) -> None:
    client = limited_app({})
    # Far more than Hex's 30 a minute, in a few seconds: a client polling its run.
    for _ in range(120):
        response = client.get("/api/v1/projects")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    for index in range(40):
        created = client.post("/api/v1/groups", json={"name": f"Team {index}"})
        assert created.status_code == 201, created.text
        assert "X-RateLimit-Limit" not in created.headers
    for _ in range(40):
        assert client.get("/api/v1/users/me").status_code == 200


def test_by_default_only_a_runaway_loop_of_triggers_is_refused(limited_app: AppFactory) -> None:
    """Both RunProject paths share the default 600 a minute per token; another token has
    its own."""
    client = limited_app({})
    paths = [f"/api/v1/projects/{uuid.uuid4()}/runs", f"/api/v1/project/{uuid.uuid4()}/run"]
    sent = 0
    while (response := client.post(paths[sent % 2], json={})).status_code != 429:
        assert response.status_code == 404, response.text
        sent += 1
        assert sent <= 600, "the default trigger limit never answered 429"
    assert sent == 600
    assert "600 per 1 minute" in response.json()["message"]
    assert 1 <= assert_rate_limited(response, "hex-run-kernel") <= 60
    # Reads of the same token go on.
    assert client.get("/api/v1/projects").status_code == 200
    other = bearer(new_token(client))
    assert client.post(paths[0], json={}, headers=other).status_code == 404


def test_the_hex_preset_applies_hexs_own_limits(limited_app: AppFactory) -> None:
    client = limited_app("hex")
    assert client.get("/api/v1/users/me").headers["X-RateLimit-Limit"] == "30"
    triggered = client.post(f"/api/v1/projects/{uuid.uuid4()}/runs", json={})
    assert triggered.headers["X-RateLimit-Limit"] == "20"

    use_up(client, "/api/v1/projects", 30)
    refused = client.get("/api/v1/projects")
    assert_rate_limited(refused, "hex-api")
    assert "the hex-api limit of 30 per 1 minute" in refused.json()["message"]


def test_an_unlimited_group_counts_nothing_and_sends_no_quota_headers(
    limited_app: AppFactory,
) -> None:
    client = limited_app({"hex-api": "2/minute", "hex-run-kernel": "unlimited"})
    for _ in range(5):
        triggered = client.post(f"/api/v1/project/{uuid.uuid4()}/run")
        assert triggered.status_code == 404
        assert "X-RateLimit-Limit" not in triggered.headers
    use_up(client, "/api/v1/projects", 2)
    assert_rate_limited(client.get("/api/v1/projects"), "hex-api")


def test_limits_come_from_the_environment_merged_over_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNYARD_RATE_LIMITS", json.dumps({"hex-run-kernel": "5/minute"}))
    monkeypatch.setenv("RUNYARD_RATE_LIMIT_STORAGE_URL", "redis://127.0.0.1:6379/3")
    settings = Settings()
    assert settings.rate_limits == {
        "hex-api": "unlimited",
        "hex-api-30rpm": "unlimited",
        "hex-run-kernel": "5/minute",
    }
    assert settings.rate_limit_storage_url == "redis://127.0.0.1:6379/3"


def test_unset_the_limits_are_runyards_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNYARD_RATE_LIMITS", raising=False)
    assert Settings().rate_limits == {
        "hex-api": "unlimited",
        "hex-api-30rpm": "unlimited",
        "hex-run-kernel": "600/minute;10000/hour",
    }


def test_the_hex_preset_is_named_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNYARD_RATE_LIMITS", "hex")
    assert Settings().rate_limits == {
        "hex-api": "30/minute;1800/hour",
        "hex-api-30rpm": "30/minute",
        "hex-run-kernel": "20/minute;60/hour",
    }


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"rate_limits": {"hex-apii": "5/minute"}}, "unknown rate-limit group(s) hex-apii"),
        ({"rate_limits": {"hex-api": "lots"}}, "hex-api: 'lots' is not a limit"),
        ({"rate_limits": {"hex-api": "0/minute"}}, "hex-api: '0/minute' would refuse every"),
        ({"rate_limits": "hexx"}, "'hexx' is neither a preset (default, hex) nor a JSON object"),
        ({"rate_limits": '{"hex-api": "5/minute"'}, "is neither a preset"),
        ({"rate_limits": '["hex"]'}, "must be a preset (default, hex) or a JSON object"),
        ({"rate_limit_storage_url": "memcached://cache:11211"}, "must be memory:// or a redis"),
    ],
)
def test_bad_limit_settings_fail_at_start_up_naming_the_setting(
    values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(complaint)) as raised:
        Settings(**values)
    assert next(iter(values)) in str(raised.value)


def test_limits_switched_off_count_nothing(limited_app: AppFactory) -> None:
    client = limited_app({"hex-api": "1/minute"}, rate_limits_enabled=False)
    for _ in range(3):
        response = client.get("/api/v1/projects")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


def test_the_web_ui_is_not_rate_limited(limited_app: AppFactory) -> None:
    client = limited_app({group: "1/hour" for group in ("hex-api", "hex-api-30rpm")})
    for _ in range(3):
        page = client.get("/login")
        assert page.status_code == 200
        assert "X-RateLimit-Limit" not in page.headers


def api_operations(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path under /api/v1) the app serves, from its OpenAPI document."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method in operations
    ]


def test_every_route_the_group_table_names_is_served(limited_app: AppFactory) -> None:
    served = set(api_operations(limited_app({})))
    assert sorted(set(GROUP_OF) - served) == []


def test_every_api_route_is_rate_limited(limited_app: AppFactory) -> None:
    """A router included without the limits would let its routes through unlimited; each
    route must also count in the group the table gives it."""
    client = limited_app({group: "1/hour" for group in {*GROUP_OF.values(), "hex-api"}})
    unlimited = []
    for method, template in api_operations(client):
        path = "/api/v1" + re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), template)
        headers = bearer(new_token(client))
        first = client.request(method, path, headers=headers)
        second = client.request(method, path, headers=headers)
        expected = group_of(method, template)
        if first.status_code == 429 or second.status_code != 429:
            unlimited.append((method, template, first.status_code, second.status_code))
        elif f"the {expected} limit" not in second.json()["message"]:
            unlimited.append((method, template, expected, second.json()["message"]))
    assert unlimited == []


# -- several API processes sharing one Redis -------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    """Redis at RUNYARD_TEST_REDIS_URL (default 127.0.0.1:6379); missing, the test skips, or
    fails with CI=true."""
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        connection.ping()
    except redis.RedisError as error:
        service_missing(f"Redis is not reachable at {REDIS_URL}: {error}")
    finally:
        connection.close()
    return REDIS_URL


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, so concurrent runs never share counters; its keys are
    deleted afterwards."""
    prefix = f"runyard-test-{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    try:
        keys = list(connection.scan_iter(match=f"{prefix}:*"))
        if keys:
            connection.delete(*keys)
    finally:
        connection.close()


@pytest.mark.redis
def test_two_api_processes_on_one_redis_share_a_tokens_counter(
    limited_app: AppFactory, redis_url: str, key_prefix: str
) -> None:
    shared = {"rate_limit_storage_url": redis_url, "rate_limit_key_prefix": key_prefix}
    first = limited_app({"hex-api": "3/minute"}, **shared)
    second = limited_app({"hex-api": "3/minute"}, **shared)
    use_up(first, "/api/v1/projects", 2)
    response = second.get("/api/v1/projects")
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert_rate_limited(first.get("/api/v1/projects"), "hex-api")
    assert_rate_limited(second.get("/api/v1/projects"), "hex-api")

    apart = limited_app({"hex-api": "3/minute"})  # memory://: counters of its own
    assert apart.get("/api/v1/projects").status_code == 200


def test_an_unreachable_rate_limit_store_stops_the_start_naming_it(
    limited_app: AppFactory,
) -> None:
    with pytest.raises(RuntimeError, match="RUNYARD_RATE_LIMIT_STORAGE_URL") as raised:
        limited_app({}, rate_limit_storage_url="redis://:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in str(raised.value)
    assert "redis://:***@127.0.0.1:1/0" in str(raised.value)


def test_an_unreachable_store_later_lets_requests_through_uncounted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter({"hex-api": "1/minute"}, "redis://:hunter2@127.0.0.1:1/0", "x")
    with caplog.at_level(logging.ERROR, logger="runyard.api.rate_limits"):
        assert limiter.hit("hex-api", "token-1") is None
        assert limiter.hit("hex-api", "token-1") is None
    assert len(caplog.records) == 1
    assert "uncounted" in caplog.text and "hunter2" not in caplog.text


# -- the Python client ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the client's tests, which each use a group of their own."""
    limits = {"hex-api": "1/second", "hex-api-30rpm": "1/hour"}
    home = tmp_path_factory.mktemp("limited-server") / "home"
    with serving(home, RUNYARD_RATE_LIMITS=json.dumps(limits)) as running:
        yield running


@pytest.mark.slow
def test_the_client_waits_out_a_429_and_retries(limited_server: Server) -> None:
    waits: list[float] = []
    url = f"http://127.0.0.1:{limited_server.port}"
    with RunyardClient(url, TOKEN, on_rate_limited=waits.append) as client:
        # One request a second: back-to-back calls meet 429s, which the client waits out. A
        # retried upload must send the whole file again.
        for index in range(3):
            client.import_notebook(EXAMPLE, title=f"Import {index}")
        titles = sorted(project["title"] for project in client.projects())
    assert titles == ["Import 0", "Import 1", "Import 2"]
    assert waits and all(wait >= 1 for wait in waits)


@pytest.mark.slow
def test_the_client_gives_up_when_the_wait_is_too_long(limited_server: Server) -> None:
    url = f"http://127.0.0.1:{limited_server.port}"
    waits: list[float] = []
    with RunyardClient(url, TOKEN, max_rate_limit_wait=5, on_rate_limited=waits.append) as client:
        client.me()
        with pytest.raises(ApiError) as raised:
            client.me()
    assert raised.value.status == 429
    assert raised.value.body["code"] == "TOO_MANY_REQUESTS"
    assert waits == []
