"""Celery executor: the doorbell is a message on a broker (Redis or RabbitMQ), answered by
`runyard worker` processes on any number of machines.

A message carries only the run's id; the worker reads everything else from the store. No
result backend: the database is the truth, so nobody waits on a task's result.

Delivery is at least once and duplicates are harmless, since a worker's first act is the
compare-and-set claim (services/execution.py) and only one claim of a run can succeed:

- `task_acks_late`: a message is acknowledged when its run is over, not when it arrives, so
  a worker that dies before claiming the run leaves the message to be delivered again.
- `worker_prefetch_multiplier=1` with late acks: a worker holds one message per kernel
  slot, all of them executing. A run never waits behind another inside a busy worker while
  an idle worker could take it; it waits in the broker, where any worker can.
- `task_reject_on_worker_lost`: for pools whose child processes can die under a task
  (prefork) the message goes back to the queue instead of being acknowledged. Runyard's
  workers use threads, where it changes nothing; it is set so that no pool choice can turn a
  lost worker into a lost message.
- Late acks keep a message unacknowledged for as long as its run lasts. Redis redelivers a
  message that stayed unacknowledged longer than the transport's visibility timeout (one
  hour by default): to a worker whose claim then fails, since the run is RUNNING. Harmless,
  but pointless churn, so the visibility timeout here is longer than the longest run
  allowed. A short one would buy nothing either: a lost message of a run still PENDING is
  sent again by the scheduler's upkeep within seconds, and a run lost while RUNNING is
  reaped when its lease expires. RabbitMQ has no visibility timeout; its `consumer_timeout`
  (30 minutes by default) closes the channel of a consumer that holds a message longer, so
  operators raise it above the longest run (docs/scaling.md).
- A message expires after the kernel allocation timeout: a run still PENDING by then can no
  longer be claimed (the claim ends it UNABLE_TO_ALLOCATE_KERNEL), so messages rung again
  and again while no worker was up need not pile up past that point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from celery import Celery
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

# The names the producer (this executor) and the consumer (runyard.worker) agree on.
EXECUTE_RUN_TASK = "runyard.execute_run"
CANCEL_RUN_COMMAND = "runyard_cancel_run"

# A project may set its own run timeout, up to a week (api/project_wire.py caps runTimeoutSeconds).
LONGEST_PROJECT_RUN_SECONDS = 7 * 24 * 3600.0
# Kernel start-up, the polite shutdown and saving the artifacts come on top of the timeout.
_RUN_OVERHEAD_SECONDS = 3600.0

# Publishing gives up after about a second: a doorbell that cannot be rung now is rung again
# by the upkeep (the run is committed already), and a trigger must not hang on the broker.
_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0.0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}


@dataclass(frozen=True)
class BrokerSettings:
    url: str
    queue: str
    # A run that waited this long for a kernel can no longer be claimed.
    allocation_timeout_seconds: float
    # The longest any run may last: the default run timeout or a project's own.
    longest_run_seconds: float

    @property
    def visibility_timeout_seconds(self) -> float:
        return self.longest_run_seconds + _RUN_OVERHEAD_SECONDS


def celery_app(broker: BrokerSettings) -> Celery:
    """A Celery app configured for Runyard's runs; the producer and the workers share it."""
    app = Celery("runyard", broker=broker.url, set_as_current=False)
    app.conf.update(
        task_default_queue=broker.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        # Only the run id travels; nothing but JSON is ever accepted.
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": broker.visibility_timeout_seconds},
        task_publish_retry_policy=_PUBLISH_RETRY_POLICY,
        # A worker keeps retrying the broker at start-up (it may come up after us).
        broker_connection_retry_on_startup=True,
        # A broker restart must not kill the kernels of running runs: they renew their lease
        # in the database, and their messages, redelivered, find the runs claimed.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_send_task_events=False,
        # Remote control carries the cancel prompt (CANCEL_RUN_COMMAND).
        worker_enable_remote_control=True,
    )
    return app


class CeleryExecutor:
    """Sends runs to the broker's queue; `runyard worker` processes execute them."""

    def __init__(self, broker: BrokerSettings) -> None:
        self._broker = broker
        self._app = celery_app(broker)

    def start(self) -> None:
        """Nothing to start: the broker is reached on the first message, and again after a
        connection is lost."""

    def stop(self) -> None:
        self._app.close()

    def submit(self, run_id: str) -> None:
        """Publish the run's id; raise if the broker cannot be reached (the caller logs it,
        and the upkeep rings the run again)."""
        self._app.send_task(
            EXECUTE_RUN_TASK,
            args=[run_id],
            queue=self._broker.queue,
            expires=self._broker.allocation_timeout_seconds,
            ignore_result=True,
            retry=True,
            retry_policy=_PUBLISH_RETRY_POLICY,
        )

    def cancel(self, run_id: str) -> None:
        """Broadcast a prompt to every worker: the one executing the run kills its kernel at
        once. Best effort only: a worker that is reconnecting misses a broadcast. The
        reliable path is the `cancel_requested` flag already committed in the store, which
        the run's heartbeat reads within a second."""
        try:
            with self._app.connection_for_write() as connection:
                # Fail fast rather than retry forever: the flag does the job regardless.
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5)
                self._app.control.broadcast(
                    CANCEL_RUN_COMMAND,
                    arguments={"run_id": run_id},
                    connection=connection,
                    reply=False,
                )
        except (OperationalError, OSError) as error:
            log.warning("could not broadcast the cancel of run %s: %s", run_id, error)
