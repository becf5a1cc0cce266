"""Settings, read once from the environment (prefix `RUNYARD_`) by `app.py` and the CLI.

Everyone else receives plain values. A bad value fails loudly at start-up, naming the variable.
"""

from __future__ import annotations

import json
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import limits
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ExecutorKind(StrEnum):
    LOCAL = "local"
    CELERY = "celery"


class SandboxMode(StrEnum):
    AUTO = "auto"
    BWRAP = "bwrap"
    NONE = "none"


class KernelNetwork(StrEnum):
    HOST = "host"
    NONE = "none"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


# A group's limit that counts nothing: its requests are never refused and carry no
# X-RateLimit-* headers.
UNLIMITED = "unlimited"

# Limits per group of API routes (shared/api/hex-api-v1.md §4). `hex-api` is the default group
# of every API route, Runyard's extensions included; `api/rate_limits.py` names the routes of
# the other groups, and `hex-run-kernel` holds RunProject on both path families.
#
# Runyard's defaults limit only what starts a kernel. Hex's numbers ration a multi-tenant
# SaaS; here the callers are the installation's own schedulers and scripts polling their own
# runs, every 1 to 5 s for the published Hex clients, often several runs on one token (one
# Airflow connection for every DAG): Hex's 30 reads a minute refuse them within a minute.
# Reads and writes other than triggers are cheap queries and single-row transactions, so
# they are not limited. A trigger creates a run and starts a kernel: 600 a minute (10 a
# second) and 10,000 an hour (167 a minute for a whole hour) are far above the burst of a
# schedule-heavy Airflow firing hundreds of DAGs at midnight, and above what a machine's
# kernels can execute, so only a loop gone wrong reaches them. docs/rate-limits.md says more.
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "hex-api": UNLIMITED,
    "hex-api-30rpm": UNLIMITED,
    "hex-run-kernel": "600/minute;10000/hour",
}

# Hex's published limits, for installations that want exact parity (`RUNYARD_RATE_LIMITS=hex`).
HEX_RATE_LIMITS: dict[str, str] = {
    "hex-api": "30/minute;1800/hour",
    "hex-api-30rpm": "30/minute",
    "hex-run-kernel": "20/minute;60/hour",
}

RATE_LIMIT_PRESETS: dict[str, dict[str, str]] = {
    "default": DEFAULT_RATE_LIMITS,
    "hex": HEX_RATE_LIMITS,
}

# Storage schemes of the `limits` library whose client Runyard ships (`limits[redis]`).
_RATE_LIMIT_SCHEMES = frozenset(
    {"memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}
)

# Broker transports of kombu whose clients Runyard ships: Redis (`celery[redis]`) and
# RabbitMQ through py-amqp (a dependency of kombu itself).
_BROKER_SCHEMES = frozenset({"redis", "rediss", "sentinel", "amqp", "amqps", "pyamqp"})


class Settings(BaseSettings):
    """Every setting is documented in docs/configuration.md; a test keeps the two in step."""

    model_config = SettingsConfigDict(env_prefix="RUNYARD_", extra="ignore")

    home: Path = Field(
        default=Path(".runyard"),
        description="Folder for the embedded SQLite store, the secret key file and logs.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store; default `sqlite:///$RUNYARD_HOME/runyard.db`. "
        "Use `postgresql+psycopg://user@host/db` to scale out.",
    )
    host: str = Field(default="127.0.0.1", description="Address `runyard serve` listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port `runyard serve` listens on.")
    keep_alive_seconds: int = Field(
        default=75,
        gt=0,
        description=(
            "How long `runyard serve` keeps an idle HTTP connection open for the client's next "
            "request. Longer than the poll interval of every published Hex client (1-30 s): "
            "at uvicorn's own 5 s, a client polling every 5 s (hex-toolkit's README loop) "
            "sends its next request as the server closes the connection and gets 'connection "
            "reset'. Behind a load balancer, keep it above the balancer's idle timeout."
        ),
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL clients reach the server at, used in `runUrl`, `runStatusUrl` and "
        "pagination links; default `http://$RUNYARD_HOST:$RUNYARD_PORT`.",
    )
    bootstrap_token: str | None = Field(
        default=None,
        description="Workspace token (`hxtw_…`) to create for the first admin on first start "
        "instead of generating and printing one.",
    )
    admin_email: str = Field(
        default="admin@runyard.local",
        description="Email of the first admin user, created on first start.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that keys token hashes and encrypts data-connection secrets; default: "
        "read from (or created in) `$RUNYARD_HOME/secret.key` with mode 0600.",
    )
    executor: ExecutorKind = Field(
        default=ExecutorKind.LOCAL,
        description="`local` runs kernels in a bounded pool inside `runyard serve`; `celery` "
        "sends runs through the broker at `RUNYARD_BROKER_URL` to `runyard worker` processes.",
    )
    broker_url: str | None = Field(
        default=None,
        # Also when unset: the `celery` executor cannot work without it.
        validate_default=True,
        description="Broker of the `celery` executor, needed by it: Redis "
        "(`redis://127.0.0.1:6379/0`) or RabbitMQ (`amqp://user:password@host:5672/vhost`).",
    )
    broker_queue: str = Field(
        default="runyard",
        min_length=1,
        description="Name of the broker queue runs travel through; installations that share a "
        "broker need one each.",
    )
    max_concurrent_kernels: int = Field(
        default=4,
        ge=1,
        description="Kernels that may run at once on this machine: in `runyard serve` with the "
        "`local` executor, or in each `runyard worker`.",
    )
    kernel_allocation_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A run that waits longer than this for a kernel slot ends "
        "UNABLE_TO_ALLOCATE_KERNEL.",
    )
    run_timeout_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Default limit on a run's duration; a project may set its own.",
    )
    shutdown_grace_seconds: float = Field(
        default=20.0,
        ge=0,
        description="On SIGTERM or Ctrl-C, how long `runyard serve` and `runyard worker` let "
        "running runs finish before killing their kernels (those runs end ERRORED). Runs "
        "still waiting for a kernel slot stay PENDING for the next process. Keep it below "
        "your supervisor's stop timeout (Docker's is 10 s, Kubernetes' 30 s).",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=1,
        description="How long a worker's claim on a run lasts without a heartbeat before the "
        "reaper ends the run ERRORED.",
    )
    max_notebook_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest notebook accepted on upload, and largest JSON body of any request.",
    )
    kernel_name: str = Field(default="python3", description="Jupyter kernel that runs notebooks.")
    kernel_sandbox: SandboxMode = Field(
        default=SandboxMode.AUTO,
        description="How kernels are confined: `bwrap` runs each in a bubblewrap sandbox (own "
        "user, PID namespace, private files; no view of `RUNYARD_HOME`) and refuses to start "
        "if it cannot; `auto` does so where bubblewrap works and otherwise falls back to "
        "`none` with a warning at start-up; `none` runs kernels as plain processes of the "
        "server's user. See [security.md](security.md).",
    )
    kernel_network: KernelNetwork = Field(
        default=KernelNetwork.HOST,
        description="What network a sandboxed kernel has: `host`, the machine's (notebooks "
        "query warehouses and APIs), or `none`, a loopback of its own. `none` needs the "
        "bubblewrap sandbox. See [security.md](security.md#the-network).",
    )
    kernel_pool_size: int | None = Field(
        default=None,
        ge=0,
        description="Kernels started ahead of demand, each handed to one run only; default: "
        "the smaller of `RUNYARD_MAX_CONCURRENT_KERNELS` and the number of CPUs. `0` turns "
        "the pool off.",
    )
    kernel_memory_limit_mb: int = Field(
        default=4096,
        ge=0,
        description="Memory a run's kernel and the processes it starts may use together, in "
        "MB; past it the kernel is killed and the run ends ERRORED. `0`: no limit.",
    )
    kernel_max_processes: int = Field(
        default=512,
        ge=0,
        description="Processes and threads a run's kernel may run at once; past it the run "
        "ends ERRORED. `0`: no limit.",
    )
    kernel_max_files_mb: int = Field(
        default=1024,
        ge=0,
        description="Size of the files a run may write in its working directory and in "
        "`/tmp` (each, held in memory in the sandbox), and of any one file. `0`: no limit.",
    )
    cell_output_limit_mb: float = Field(
        default=10.0,
        ge=0,
        description="Output kept per cell, in MB; past it the rest of the cell's output is "
        "dropped and the cell and the run log say so. `0`: no limit.",
    )
    run_output_limit_mb: float = Field(
        default=50.0,
        ge=0,
        description="Output kept per run, in MB, over all its cells; past it later output is "
        "dropped and the run log says so. `0`: no limit.",
    )
    sql_row_limit: int = Field(
        default=100_000,
        ge=1,
        description="Most rows a SQL cell keeps; the rest are dropped and the cell says so.",
    )
    sql_query_timeout_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Longest a SQL cell's query may take, connecting and fetching included; "
        "past it the query is stopped on the database and the run ends ERRORED. 0: no limit "
        "of its own, the run's time limit bounds it. See [sql-cells.md](sql-cells.md).",
    )
    sql_cache_max_mb: float = Field(
        default=256.0,
        ge=0,
        description="Size of the SQL result cache (`useCachedSqlResults`), in MB, kept in the "
        "store: past it the longest queried results are deleted, and a larger result is not "
        "kept. `0`: no result is kept or reused. See "
        "[sql-cells.md](sql-cells.md#the-result-cache).",
    )
    embed_results_lifetime_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long the outputs of a run that a presigned embedding URL started with "
        "its inputs are shown to every later open of a URL with the same inputs (for the same "
        "published version) before an open runs the app again; also how long an opened "
        "embedded page may be reloaded. See [published-apps.md](published-apps.md#embedding).",
    )
    scheduler_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Longest the scheduler sleeps between ticks when it found nothing to do.",
    )
    schedule_misfire_grace_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A slot reached later than this after its time counts as missed and follows "
        "its schedule's catch-up policy.",
    )
    schedule_catch_up_limit: int = Field(
        default=50,
        ge=1,
        description="Most missed slots a schedule with catch-up policy `all` fires at once.",
    )
    max_personal_token_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Longest lifetime, in days, of a personal API token (`hxtp_…`); personal "
        "tokens must expire.",
    )
    token_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long an API process trusts a token it has verified without reading "
        "the store again. Revocations, deactivations and role changes made through the same "
        "process, and expiry, take effect at once regardless; those made through another "
        "process sharing the store (another API replica) take effect within this many "
        "seconds. `0` reads the store on every request.",
    )
    log_level: str = Field(default="info", description="Log level of the server processes.")
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="`text`: today's human-readable lines; `json`: one JSON object a line, with "
        "`time`, `level`, `logger`, `message`, and `trace_id`, `run_id` and `project_id` where "
        "the line concerns a request or a run. Applies to `runyard serve`, `scheduler` and "
        "`worker`. See [operations.md](operations.md#logs).",
    )
    rate_limits_enabled: bool = Field(
        default=True,
        description="Whether API requests are rate limited per token; `false` switches every "
        "limit off.",
    )
    # NoDecode: the raw variable reaches the validator, which reads a preset name or JSON.
    rate_limits: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS),
        description="Limits per group: `hex` for Hex's own (`hex-api` `30/minute;1800/hour`, "
        "`hex-api-30rpm` `30/minute`, `hex-run-kernel` `20/minute;60/hour`), or JSON merged "
        'over the defaults, e.g. `{"hex-api": "300/minute"}`; `unlimited` counts nothing. '
        "Default: run triggers (`hex-run-kernel`) `600/minute;10000/hour` per token, every "
        "other route (`hex-api`, `hex-api-30rpm`) `unlimited`.",
    )
    rate_limit_storage_url: str = Field(
        default="memory://",
        description="Where the per-token counters live: `memory://` (this process only) or a "
        "Redis URL such as `redis://127.0.0.1:6379/0`, which several API processes share.",
    )
    rate_limit_key_prefix: str = Field(
        default="runyard",
        min_length=1,
        description="Prefix of the counters' keys in Redis, so several Runyard installations "
        "can share one Redis server.",
    )

    # -- operations: health, metrics, retention, logs (docs/operations.md) --
    metrics_enabled: bool = Field(
        default=True,
        description="Whether `/metrics` serves Prometheus metrics and HTTP requests are counted "
        "and timed for them; `false` turns both off (`/metrics` answers 404).",
    )
    worker_probe_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port on which each `runyard worker` answers `/healthz`, `/readyz` and "
        "`/metrics` (on `RUNYARD_HOST`); unset, a worker opens no port. Several workers on one "
        "machine need one each.",
    )
    max_artifact_mb: float = Field(
        default=100.0,
        ge=0,
        description="Largest artifact a run may store (its executed notebook, HTML page or "
        "log), in MB: a larger notebook or page is not kept and the run's log says so; a "
        "larger log is cut with a line saying so. `0`: no limit.",
    )
    retention_days: float = Field(
        default=90.0,
        ge=0,
        description="Runs older than this many days are deleted with their artifacts, unless "
        "kept for another reason: among the newest `RUNYARD_RETENTION_KEEP_LAST_RUNS` of their "
        "project, still PENDING or RUNNING, or their project's published run. `0`: keep every "
        "run forever. See [operations.md](operations.md#retention).",
    )
    retention_keep_last_runs: int = Field(
        default=100,
        ge=0,
        description="Newest runs of each project kept whatever their age.",
    )
    retention_batch_size: int = Field(
        default=100,
        ge=1,
        description="Most runs the scheduler's upkeep deletes in one transaction; it goes on "
        "at once while there are more, and otherwise looks again every five minutes.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `/metrics` answers only requests with `Authorization: Bearer "
        "<this token>` (Prometheus' `authorization` setting), 401 to others; unset, it is open "
        "like `/healthz` and `/readyz`. Never logged or shown.",
    )

    # -- run notifications (docs/notifications.md) --
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that sends run notification emails; unset, runs cannot "
        "notify users or groups.",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_username: str | None = Field(
        default=None, description="User to log in to the SMTP server as; unset, no login."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password of the SMTP user; never logged or shown."
    )
    smtp_from: str = Field(
        default="runyard@localhost",
        description="Sender address (`From`) of notification emails.",
    )
    smtp_starttls: bool = Field(
        default=True,
        description="Whether to switch the SMTP connection to TLS with STARTTLS before logging in.",
    )
    slack_bot_token: SecretStr | None = Field(
        default=None,
        description="Slack bot token (`xoxb-…`) that posts run notifications with "
        "chat.postMessage; unset, runs cannot notify Slack channels. Never logged or shown.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api",
        description="Base URL of Slack's Web API.",
    )

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("bootstrap_token")
    @classmethod
    def _workspace_token_prefix(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("hxtw_"):
            raise ValueError("must be a workspace token starting with 'hxtw_'")
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _preset_or_merged_over_default_limits(cls, value: Any) -> Any:
        """A preset's limits, or the groups given (as a dict or a JSON object) merged over
        the defaults."""
        if isinstance(value, str):
            text = value.strip()
            if text in RATE_LIMIT_PRESETS:
                return dict(RATE_LIMIT_PRESETS[text])
            presets = ", ".join(RATE_LIMIT_PRESETS)
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError(
                    f"{text!r} is neither a preset ({presets}) nor a JSON object of limits "
                    'per group such as {"hex-run-kernel": "60/minute"}'
                ) from None
            if not isinstance(value, dict):
                raise ValueError(f"must be a preset ({presets}) or a JSON object, got {text}")
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(DEFAULT_RATE_LIMITS))
        if unknown:
            known = ", ".join(DEFAULT_RATE_LIMITS)
            raise ValueError(f"unknown rate-limit group(s) {', '.join(unknown)}; known: {known}")
        return {**DEFAULT_RATE_LIMITS, **value}

    @field_validator("rate_limits")
    @classmethod
    def _parseable_limits(cls, value: dict[str, str]) -> dict[str, str]:
        checked = {}
        for group, text in value.items():
            if text.strip() == UNLIMITED:
                checked[group] = UNLIMITED
                continue
            try:
                parsed = limits.parse_many(text)
            except ValueError:
                raise ValueError(
                    f"{group}: {text!r} is not a limit such as '30/minute;1800/hour', "
                    f"nor {UNLIMITED!r}"
                ) from None
            if any(item.amount < 1 for item in parsed):
                raise ValueError(
                    f"{group}: {text!r} would refuse every request; a limit allows at least 1 "
                    f"(for no limit, write {UNLIMITED!r})"
                )
            checked[group] = text
        return checked

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _known_storage_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in _RATE_LIMIT_SCHEMES:
            raise ValueError("must be memory:// or a redis:// (rediss://, redis+unix://, …) URL")
        return value

    @field_validator("broker_url")
    @classmethod
    def _celery_needs_a_known_broker(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("executor") is ExecutorKind.CELERY:
                raise ValueError("RUNYARD_EXECUTOR=celery needs a broker URL")
            return value
        if urlsplit(value).scheme not in _BROKER_SCHEMES:
            raise ValueError(
                "must be a redis:// (rediss://, sentinel://) or amqp:// (amqps://) URL"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home.resolve() / 'runyard.db'}"

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = self.host if self.host not in ("0.0.0.0", "::") else socket.gethostname()
        return f"http://{host}:{self.port}"
