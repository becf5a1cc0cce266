"""GET /metrics: Prometheus' text format, read back with prometheus_client's own parser after
real runs, a schedule's slots and a failed notification, and checked against the store.

Counters and histograms recorded as things happen belong to the process, which runs many
tests: those are checked by how much they grew during this test.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from runyard.app import Runtime, build_runtime, create_app
from runyard.config import Settings
from tests.cast import notebook, published_project, trigger, wait_for_end, wait_for_pages
from tests.servers import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    answer = client.get("/metrics", headers={"Authorization": "", **headers})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def labelled(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def store_rows(runtime: Runtime, query: str) -> list[Any]:
    engine = sa.create_engine(runtime.settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)))
    finally:
        engine.dispose()


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    """Slack notifications go to a port on which nothing listens: every delivery fails."""
    return {
        **settings_values,
        "slack_bot_token": "xoxb-metrics-test",
        "slack_api_url": f"http://127.0.0.1:{free_port()}/api",
    }


def test_metrics_after_runs_schedules_and_a_failed_notification_match_the_store(
    client: TestClient, runtime: Runtime
) -> None:
    before = scrape(client)
    ok = published_project(client, notebook("x = 1"), title="Fine")
    broken = published_project(client, notebook("raise ValueError('boom')"), title="Broken")
    slack = [{"type": "ALL", "includeSuccessScreenshot": False, "slackChannelIds": ["C042"]}]
    completed = trigger(client, ok, notifications=slack)["runId"]
    errored = trigger(client, broken)["runId"]
    done = wait_for_end(client, ok, completed)
    assert done["status"] == "COMPLETED", done.get("error")
    assert wait_for_end(client, broken, errored)["status"] == "ERRORED"

    schedule = client.post(
        f"/api/v1/projects/{ok}/schedules",
        json={"cadence": "DAILY", "daily": {"timezone": "UTC", "hour": 3, "minute": 0}},
    ).json()
    first_slot = datetime.fromisoformat(schedule["nextFireTimes"][0]["utc"].replace("Z", "+00:00"))
    # Three days on: the latest slot fires (late), the ones before it are recorded missed.
    # The whole process is on that clock while the tick runs: a worker thread that claims the
    # new run meanwhile leases it until then plus its lease, so the tick's reaper does not
    # take a live run for one whose lease ran out two days ago.
    three_days_on = first_slot + timedelta(days=2, minutes=5)
    with time_machine.travel(three_days_on, tick=False):
        assert runtime.scheduler.tick(now=three_days_on)
    [(scheduled,)] = store_rows(runtime, "SELECT id FROM runs WHERE trigger = 'SCHEDULED'")
    fired = wait_for_end(client, ok, scheduled)
    assert fired["status"] == "COMPLETED", fired.get("error")

    deadline = time.monotonic() + 30  # the delivery thread tries Slack, and fails
    while not store_rows(runtime, "SELECT id FROM notification_deliveries WHERE attempts > 0"):
        assert time.monotonic() < deadline, "the notification was never attempted"
        time.sleep(0.1)

    for run_id in (completed, errored, scheduled):
        wait_for_pages(client, run_id)  # rendered just after the run ended, then counted
    after = scrape(client)

    by_status = store_rows(runtime, "SELECT status, trigger, count(*) FROM runs GROUP BY 1, 2")
    assert {
        (labels, value) for (name, labels), value in after.items() if name == "runyard_runs"
    } == {((("status", s), ("trigger", t)), float(n)) for s, t, n in by_status}
    assert labelled(after, "runyard_runs", status="COMPLETED", trigger="API") == 1
    assert labelled(after, "runyard_runs", status="COMPLETED", trigger="SCHEDULED") == 1

    [(artifact_bytes,)] = store_rows(runtime, "SELECT sum(length(content)) FROM run_artifacts")
    assert after[("runyard_artifacts_bytes", ())] == artifact_bytes > 0

    not_fired = store_rows(runtime, "SELECT kind, count(*) FROM schedule_skipped_slots GROUP BY 1")
    assert dict(not_fired).get("MISSED", 0) >= 1
    for kind, count in not_fired:
        assert labelled(after, "runyard_schedule_slots_not_fired_total", kind=kind) == count

    [(channel, status, attempts)] = store_rows(
        runtime, "SELECT channel, status, attempts FROM notification_deliveries"
    )
    assert channel == "slack" and status in {"PENDING", "FAILED"} and attempts >= 1
    assert labelled(after, "runyard_notification_deliveries", channel="slack", status=status) == 1

    def grew(name: str, **labels: str) -> float:
        return labelled(after, name, **labels) - labelled(before, name, **labels)

    assert (
        grew("runyard_notification_attempts_total", outcome="retried")
        + grew("runyard_notification_attempts_total", outcome="failed")
        == attempts
    )
    assert grew("runyard_run_duration_seconds_count", status="COMPLETED") == 2
    assert grew("runyard_run_duration_seconds_count", status="ERRORED") == 1
    assert grew("runyard_run_queue_wait_seconds_count") == 3
    assert grew("runyard_kernel_start_seconds_count") == 3
    assert after[("runyard_kernels_busy", ())] == 0
    assert after[("runyard_kernels_idle", ())] == 0  # the suite's servers have no pool
    # The latest slot (two days on) fired five minutes late.
    assert grew("runyard_schedule_lateness_seconds_count") == 1
    assert grew("runyard_schedule_lateness_seconds_bucket", le="120.0") == 0
    assert grew("runyard_schedule_lateness_seconds_bucket", le="900.0") == 1
    assert grew("runyard_schedule_lateness_seconds_sum") == pytest.approx(300)
    assert grew("runyard_scheduler_tick_seconds_count") >= 1

    status_route = "/api/v1/projects/{projectId}/runs/{runId}"
    assert grew("runyard_http_requests_total", method="GET", route=status_route, status="200") > 0
    assert grew("runyard_http_request_duration_seconds_count", method="GET", route=status_route)
    assert grew("runyard_http_requests_total", method="GET", route="/metrics", status="200") == 1


def test_unknown_paths_are_one_series_not_one_per_path(client: TestClient) -> None:
    for path in ("/nowhere/1", "/nowhere/2", "/api/v1/nothing-here"):
        assert client.get(path).status_code == 404
    samples = scrape(client)
    routes = {dict(labels).get("route") for (name, labels) in samples if "http" in name}
    assert "unmatched" in routes
    assert not any(route and "nowhere" in route for route in routes)


def test_a_metrics_token_is_required_when_set(settings_values: dict[str, Any]) -> None:
    runtime = build_runtime(Settings(**settings_values, metrics_token="scrape-me"), migrate=False)
    try:
        with TestClient(create_app(runtime, background=False)) as client:
            assert client.get("/metrics").status_code == 401
            wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert "scrape-me" not in wrong.text
            assert scrape(client, Authorization="Bearer scrape-me")
            # The workspace token is not the metrics token.
            assert client.get("/readyz").status_code == 200
    finally:
        runtime.db.dispose()


def test_metrics_can_be_switched_off(settings_values: dict[str, Any]) -> None:
    runtime = build_runtime(Settings(**settings_values, metrics_enabled=False), migrate=False)
    try:
        with TestClient(create_app(runtime, background=False)) as client:
            assert client.get("/metrics").status_code == 404
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.db.dispose()
