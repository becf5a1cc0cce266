"""GET run status answered by api/status_polls.py: the same answers as the FastAPI route, on
both databases, and every request it does not answer itself (errors, a token not verified
yet, the expanded stats, counted routes) served by the route exactly as before."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from runyard.app import Runtime, create_app
from runyard.services.runs import DRY_RUN_ID
from tests.api.sharing_cast import share_users
from tests.cast import (
    bearer,
    new_user,
    notebook,
    personal_token,
    published_project,
    trigger,
    wait_for_end,
)
from tests.conftest import BOOTSTRAP_TOKEN

# The route answers this header itself (it reads the state events); "false" asks for nothing
# more, so its answer is the route's answer to the same poll.
THROUGH_THE_ROUTE = {"enable-expanded-stats": "false"}


@contextmanager
def counted_polls(runtime: Runtime) -> Iterator[list[str]]:
    """The run ids that `RunService.poll` (the direct answers' read) was asked for."""
    runs = runtime.services.runs
    asked: list[str] = []
    real_poll = runs.poll

    def poll(actor: Any, project_id: str, run_id: str) -> Any:
        asked.append(run_id)
        return real_poll(actor, project_id, run_id)

    runs.poll = poll  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        del runs.poll


@pytest.fixture
def ended_run(client: TestClient) -> tuple[str, str]:
    project_id = published_project(client, notebook("x = 1"))
    run_id = trigger(client, project_id, inputParams={})["runId"]
    wait_for_end(client, project_id, run_id)
    return project_id, run_id


def test_a_poll_is_answered_directly_with_the_routes_answer_in_both_families(
    client: TestClient, runtime: Runtime, ended_run: tuple[str, str]
) -> None:
    project_id, run_id = ended_run
    for path in (
        f"/api/v1/projects/{project_id}/runs/{run_id}",
        f"/api/v1/project/{project_id}/run/{run_id}",
    ):
        with counted_polls(runtime) as asked:
            direct = client.get(path)
            routed = client.get(path, headers=THROUGH_THE_ROUTE)
        assert asked == [run_id]  # the first answered directly, the second by the route
        assert direct.status_code == routed.status_code == 200
        assert direct.headers["content-type"] == routed.headers["content-type"]
        assert direct.json() == routed.json()
        assert direct.json()["status"] == "COMPLETED"
        assert direct.headers["x-trace-id"] != routed.headers["x-trace-id"]


def test_ids_are_read_as_the_route_reads_them_and_bad_ones_get_the_routes_400(
    client: TestClient, runtime: Runtime, ended_run: tuple[str, str]
) -> None:
    project_id, run_id = ended_run
    upper = client.get(f"/api/v1/projects/{project_id.upper()}/runs/{run_id.upper()}")
    assert upper.status_code == 200 and upper.json()["runId"] == run_id
    with counted_polls(runtime) as asked:
        bad = client.get(f"/api/v1/projects/{project_id}/runs/not-a-uuid")
    assert asked == []
    assert bad.status_code == 400
    assert bad.json()["code"] == "BAD_REQUEST"


def test_errors_are_the_routes_errors(
    client: TestClient, runtime: Runtime, ended_run: tuple[str, str]
) -> None:
    project_id, run_id = ended_run
    other_project = published_project(client, notebook("y = 2"))
    outsider = new_user(client, "outsider@example.com", "EDITOR", "Out")
    outsider_token = personal_token(client, outsider["id"])
    client.get("/api/v1/users/me", headers=bearer(outsider_token))  # now remembered
    cases: list[tuple[str, dict[str, str], int, Callable[[dict[str, Any]], bool]]] = [
        (f"/api/v1/projects/{project_id}/runs/{uuid.uuid4()}", {}, 404, _names("run")),
        (f"/api/v1/projects/{other_project}/runs/{run_id}", {}, 404, _names("run")),
        (f"/api/v1/projects/{uuid.uuid4()}/runs/{run_id}", {}, 404, _names("project")),
        (
            f"/api/v1/projects/{project_id}/runs/{run_id}",
            bearer(outsider_token),
            404,
            _names("project"),
        ),
        (
            f"/api/v1/projects/{project_id}/runs/{DRY_RUN_ID}",
            {},
            404,
            lambda body: "dry run" in body["message"],
        ),
        (
            f"/api/v1/projects/{project_id}/runs/{run_id}",
            bearer("hxtw_not-a-token-of-this-workspace-000000"),
            401,
            lambda body: body["code"] == "UNAUTHORIZED",
        ),
    ]
    for path, headers, status, says in cases:
        direct = client.get(path, headers=headers)
        routed = client.get(path, headers={**headers, **THROUGH_THE_ROUTE})
        assert direct.status_code == routed.status_code == status, (path, direct.text)
        assert says(direct.json()), direct.json()
        assert direct.json().keys() == routed.json().keys()
        assert {k: v for k, v in direct.json().items() if k != "traceId"} == {
            k: v for k, v in routed.json().items() if k != "traceId"
        }


def _names(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: body["code"] == "NOT_FOUND" and kind in body["message"].lower()


def test_a_shared_editor_polls_directly_and_loses_access_at_once_when_unshared(
    client: TestClient, runtime: Runtime, ended_run: tuple[str, str]
) -> None:
    project_id, run_id = ended_run
    editor = new_user(client, "shared@example.com", "EDITOR", "Shared")
    token = personal_token(client, editor["id"])
    share = share_users(client, project_id, (editor["id"], "CAN_VIEW"))
    assert share.status_code == 200, share.text
    path = f"/api/v1/projects/{project_id}/runs/{run_id}"
    assert client.get(path, headers=bearer(token)).status_code == 200  # verifies the token
    with counted_polls(runtime) as asked:
        assert client.get(path, headers=bearer(token)).status_code == 200
    assert asked == [run_id]
    unshare = share_users(client, project_id, (editor["id"], "NONE"))
    assert unshare.status_code == 200, unshare.text
    assert client.get(path, headers=bearer(token)).status_code == 404


def test_the_metrics_count_a_direct_answer_under_its_route(
    client: TestClient, runtime: Runtime, ended_run: tuple[str, str]
) -> None:
    # The counters belong to the process, which runs many tests: counted by their growth.
    project_id, run_id = ended_run
    before = answered(client)
    with counted_polls(runtime) as asked:
        for _ in range(3):
            assert client.get(f"/api/v1/projects/{project_id}/runs/{run_id}").status_code == 200
    assert len(asked) == 3
    grown = {key: n - before.get(key, 0.0) for key, n in answered(client).items()}
    assert grown[("GET", "/api/v1/projects/{projectId}/runs/{runId}", "200")] == 3
    assert grown.get(("GET", "unmatched", "200"), 0.0) == 0


def answered(client: TestClient) -> dict[tuple[str, str, str], float]:
    """runyard_http_requests_total by (method, route, status)."""
    exposition = client.get("/metrics", headers={"Authorization": ""}).text
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == "runyard_http_requests_total"
    }


def test_when_reads_are_rate_limited_every_poll_is_counted_by_the_route(
    runtime: Runtime, ended_run: tuple[str, str], settings_values: dict[str, Any]
) -> None:
    project_id, run_id = ended_run
    from runyard.app import build_runtime
    from runyard.config import Settings

    limited = build_runtime(
        Settings(**{**settings_values, "rate_limits": {"hex-api": "3/minute"}}), migrate=False
    )
    try:
        with TestClient(
            create_app(limited, background=False), headers=bearer(BOOTSTRAP_TOKEN)
        ) as http:
            path = f"/api/v1/projects/{project_id}/runs/{run_id}"
            with counted_polls(limited) as asked:
                answers = [http.get(path) for _ in range(4)]
            assert asked == []
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            assert answers[0].headers["x-ratelimit-limit"] == "3"
    finally:
        limited.db.dispose()


def test_a_running_run_is_polled_directly_until_it_ends(
    client: TestClient, runtime: Runtime
) -> None:
    project_id = published_project(client, notebook("import time; time.sleep(1.5)"))
    run_id = trigger(client, project_id)["runId"]
    seen: list[str] = []
    with counted_polls(runtime) as asked:
        final = wait_for_end(client, project_id, run_id)
        seen = list(asked)
    assert final["status"] == "COMPLETED"
    assert len(seen) >= 2 and set(seen) == {run_id}
