"""Settings, read once from the environment (prefix `RUNYARD_`) by `app.py` and the CLI.

Everyone else receives plain values. A bad value fails loudly at start-up, naming the variable.
"""

from __future__ import annotations

import socket
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExecutorKind(StrEnum):
    LOCAL = "local"


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
        description="`local` runs kernels in a bounded pool inside this process tree.",
    )
    max_concurrent_kernels: int = Field(
        default=4, ge=1, description="Kernels that may run at once on this machine."
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
    lease_seconds: float = Field(
        default=30.0,
        gt=1,
        description="How long a worker's claim on a run lasts without a heartbeat before the "
        "reaper ends the run ERRORED.",
    )
    max_notebook_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest notebook accepted on upload."
    )
    kernel_name: str = Field(default="python3", description="Jupyter kernel that runs notebooks.")
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
    log_level: str = Field(default="info", description="Log level of the server processes.")

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

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home.resolve() / 'runyard.db'}"

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = self.host if self.host not in ("0.0.0.0", "::") else socket.gethostname()
        return f"http://{host}:{self.port}"
