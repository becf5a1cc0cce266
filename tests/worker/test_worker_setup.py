"""What `runyard worker` checks before it takes a run: its settings, the store's revision,
and the registry through which a cancel reaches a run's kernel."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from runyard.cli.main import app as cli
from runyard.config import ExecutorKind, Settings
from runyard.kernel.runner import RunOutcome
from runyard.store.db import StoreNotMigrated, upgrade, wait_until_migrated
from runyard.worker.tasks import RunningRuns, WorkerClosing


def test_the_celery_executor_needs_a_broker_url() -> None:
    with pytest.raises(ValidationError, match="RUNYARD_EXECUTOR=celery needs a broker URL"):
        Settings(executor=ExecutorKind.CELERY)


def test_a_broker_url_of_an_unknown_transport_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"broker_url\n.*redis:// .* or amqp://"):
        Settings(executor=ExecutorKind.CELERY, broker_url="http://127.0.0.1:6379/0")


def test_redis_and_rabbitmq_urls_are_accepted() -> None:
    for url in ("redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672//"):
        assert Settings(executor=ExecutorKind.CELERY, broker_url=url).broker_url == url


def test_the_worker_command_refuses_to_start_with_the_local_executor(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["worker"], env={"RUNYARD_EXECUTOR": "local", "RUNYARD_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "RUNYARD_EXECUTOR=celery" in result.output


def test_a_worker_waits_for_a_store_that_is_not_migrated_and_gives_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runyard.db'}"
    with pytest.raises(StoreNotMigrated, match="runyard migrate"):
        wait_until_migrated(url, seconds=0)
    upgrade(url)
    wait_until_migrated(url, seconds=0)


def test_a_cancel_reaches_every_control_of_the_run_and_only_that_run() -> None:
    running = RunningRuns()
    with (
        running.register("run-a") as first,
        running.register("run-a") as duplicate,
        running.register("run-b") as other,
    ):
        assert running.cancel("run-a")
        assert first.stop_requested is not None
        assert first.stop_requested.outcome is RunOutcome.KILLED
        assert duplicate.stop_requested is not None
        assert other.stop_requested is None
    assert not running.cancel("run-a")


def test_a_closing_worker_kills_its_runs_and_starts_no_more() -> None:
    running = RunningRuns()
    with running.register("run-a") as control:
        assert running.close() == 1
        assert control.stop_requested is not None
    with pytest.raises(WorkerClosing), running.register("run-b"):
        pass
