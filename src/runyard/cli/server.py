"""The process `runyard serve` becomes: the API, the scheduler and (with the local executor)
the kernels, for as long as it runs.

`runyard serve` parses its options with the CLI's libraries (typer, click, rich: about
9 MB that the server would keep for its whole life and never use again), then replaces
itself with `python -m runyard.cli.server`, which imports none of them. The options reach
this module as the settings' environment variables; the pid stays the same, so signals and
supervisors see one process.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    from runyard.config import Settings
    from runyard.store.migrate_process import ChildMigration, StoreMigrationFailed, store_at_head

    settings = Settings()
    _fewer_malloc_arenas()
    # Migrated in a child process, so that this long-lived one never imports Alembic; the
    # child works while this process imports the server's modules. A store at head already
    # (most starts) needs none.
    url = settings.resolved_database_url
    migration = None if store_at_head(url) else ChildMigration(url)

    import uvicorn

    from runyard.app import build_runtime, create_app
    from runyard.kernel.sandbox import SandboxUnavailable

    try:
        if migration is not None:
            migration.finish()
        runtime = build_runtime(settings, migrate=False)
    except (StoreMigrationFailed, SandboxUnavailable) as error:
        print(error, file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    if runtime.bootstrap and runtime.bootstrap.token:
        print(
            f"Created the first admin {runtime.bootstrap.admin_email} and a "
            "workspace token. It is shown only this once; keep it:\n\n"
            f"    {runtime.bootstrap.token}\n\n"
            f"    export RUNYARD_URL={settings.resolved_public_url}\n"
            f"    export RUNYARD_TOKEN={runtime.bootstrap.token}\n",
            flush=True,
        )
    print(
        f"Runyard listening on http://{settings.host}:{settings.port} "
        f"(store: {settings.resolved_database_url})",
        flush=True,
    )
    app = create_app(runtime)
    _freeze_what_start_up_made()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        timeout_keep_alive=settings.keep_alive_seconds,
        log_level=settings.log_level,
        **_uvicorn_logging(settings),
    )


def _freeze_what_start_up_made() -> None:
    """Leave the objects of start-up (modules, the app, its routes and models) out of every
    later garbage collection.

    They live as long as the process, yet a full collection walks all of them: on this
    server about 150 ms, during which no request is answered. Frozen, a full collection
    walks only what was made since, about a fifth of that. Garbage made at start-up is
    collected first, so none is kept for good.
    """
    import gc

    gc.collect()
    gc.freeze()


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas for the threads this process will start.

    glibc gives each thread that allocates an arena of its own, up to 8 per core; under the
    GIL the server's threads (kernel slots, heartbeats, the scheduler, ZeroMQ) seldom
    allocate at once, so the arenas mostly hold freed memory that is never given back: about
    10 MB after a few runs (docs/performance.md). An operator's own MALLOC_ARENA_MAX wins;
    on a C library without mallopt (musl) nothing changes.
    """
    import ctypes
    import os

    if "MALLOC_ARENA_MAX" in os.environ:
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        m_arena_max = -8  # from glibc's malloc.h
        mallopt(m_arena_max, arenas)


def _uvicorn_logging(settings: Any) -> dict[str, Any]:
    """With RUNYARD_LOG_FORMAT=json, every line of the server (uvicorn's too) as JSON;
    otherwise uvicorn's own configuration, as before."""
    from runyard.config import LogFormat
    from runyard.log_format import logging_config

    if settings.log_format is not LogFormat.JSON:
        return {}
    return {"log_config": logging_config(settings.log_level, json_lines=True)}


if __name__ == "__main__":
    main()
