"""The `runyard` command: serve, and talk to a server by URL and token."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from runyard.cli import audit as audit_cli
from runyard.cli import cells as cells_cli
from runyard.cli import collections as collections_cli
from runyard.cli import connections as connections_cli
from runyard.cli import groups as groups_cli
from runyard.cli import project_sharing
from runyard.cli import schedules as schedules_cli
from runyard.cli import tokens as tokens_cli
from runyard.cli import users as users_cli
from runyard.cli import views as views_cli
from runyard.cli.connection import DEFAULT_URL, TokenOption, UrlOption, api_client
from runyard.cli.params import parse_params

if TYPE_CHECKING:
    from runyard.client import RunyardClient

app = typer.Typer(
    help="Runyard: run data notebooks on schedules and on demand.", no_args_is_help=True
)
projects_app = typer.Typer(help="Import, list and publish projects.", no_args_is_help=True)
runs_app = typer.Typer(help="Trigger, watch, list and cancel runs.", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
app.add_typer(runs_app, name="runs")
app.add_typer(schedules_cli.app, name="schedules")
app.add_typer(views_cli.app, name="views")
app.add_typer(cells_cli.app, name="cells")
app.add_typer(groups_cli.app, name="groups")
app.add_typer(collections_cli.app, name="collections")
app.add_typer(connections_cli.app, name="connections")
app.add_typer(users_cli.app, name="users")
app.add_typer(tokens_cli.app, name="tokens")
app.command("audit")(audit_cli.audit)

console = Console()


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (RUNYARD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (RUNYARD_PORT).")] = None,
) -> None:
    """Run the API and the scheduler, and with the local executor the kernels too, in one
    process tree."""
    import os

    # The server runs in this same process, replaced by a program without the CLI's
    # libraries (cli/server.py); the options travel as the settings' variables.
    if host:
        os.environ["RUNYARD_HOST"] = host
    if port:
        os.environ["RUNYARD_PORT"] = str(port)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "runyard.cli.server"])


def _configure_logging(settings: Any) -> None:
    """With RUNYARD_LOG_FORMAT=json, lines as JSON from the start; a worker's Celery then
    leaves the logging as it is (a receiver of its `setup_logging` signal takes it over)."""
    from celery import signals

    from runyard.config import LogFormat
    from runyard.log_format import configure

    if settings.log_format is not LogFormat.JSON:
        return
    configure(settings.log_level, json_lines=True)
    signals.setup_logging.connect(_keep_logging, weak=False)


def _keep_logging(**_signal: Any) -> None:
    """Celery's `setup_logging` receiver: the logging configured already stays."""


@app.command()
def scheduler() -> None:
    """Run only the scheduler (any number of them may share one database)."""
    import signal
    import threading

    from runyard.app import build_scheduler
    from runyard.config import Settings

    settings = Settings()
    _configure_logging(settings)
    loop, db = build_scheduler(settings)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    console.print(f"Runyard scheduler on {settings.resolved_database_url}")
    try:
        loop.run_forever(stopping, settings.scheduler_interval_seconds)
    finally:
        db.dispose()


@app.command()
def worker() -> None:
    """Execute runs from the broker (RUNYARD_EXECUTOR=celery), as many at once as
    RUNYARD_MAX_CONCURRENT_KERNELS; start one on each machine that should run notebooks."""
    from sqlalchemy.engine import make_url

    from runyard.app import build_worker, worker_probes
    from runyard.config import ExecutorKind, Settings
    from runyard.kernel.sandbox import SandboxUnavailable
    from runyard.store.db import StoreNotMigrated

    settings = Settings()
    _configure_logging(settings)
    if settings.executor is not ExecutorKind.CELERY:
        console.print(
            "[red]runyard worker executes runs sent through a broker: set "
            "RUNYARD_EXECUTOR=celery and RUNYARD_BROKER_URL (here and for runyard serve).[/red]"
        )
        raise typer.Exit(2)
    try:
        process = build_worker(settings)
    except (StoreNotMigrated, SandboxUnavailable) as error:
        console.print(f"[red]{error}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    store = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    console.print(
        f"Runyard worker on {store}, queue {settings.broker_queue!r}, "
        f"{settings.max_concurrent_kernels} kernel(s) at once"
    )
    probes = worker_probes(settings, process)
    if probes is not None:
        probes.start()
        console.print(f"Probes on http://{settings.host}:{probes.port}/healthz, /readyz, /metrics")
    try:
        code = process.run()
    finally:
        if probes is not None:
            probes.stop()
    raise typer.Exit(code)


@app.command()
def migrate() -> None:
    """Apply database migrations (the server also does this on start)."""
    from runyard.config import Settings
    from runyard.store.db import upgrade

    settings = Settings()
    upgrade(settings.resolved_database_url)
    console.print(f"Store at {settings.resolved_database_url} is up to date.")


# -- projects ------------------------------------------------------------------------------


@projects_app.command("import")
def projects_import(
    notebook: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    publish: Annotated[bool, typer.Option(help="Publish version 1 right away.")] = False,
    title: Annotated[str | None, typer.Option(help="Project title.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Create a project from a Jupyter notebook."""
    with api_client(url, token) as client:
        result = client.import_notebook(notebook, publish=publish, title=title)
    project = result["project"]
    console.print(f"Project [bold]{project['title']}[/bold] {project['id']}")
    if result.get("publishedVersion"):
        console.print(f"Published version {result['publishedVersion']}")


@projects_app.command("list")
def projects_list(url: UrlOption = DEFAULT_URL, token: TokenOption = "") -> None:
    """List projects."""
    table = Table("id", "title", "version", "last published")
    with api_client(url, token) as client:
        for project in client.projects():
            table.add_row(
                project["id"],
                project["title"],
                str(project.get("latestVersion") or "-"),
                project.get("lastPublishedAt") or "-",
            )
    console.print(table)


@projects_app.command("publish")
def projects_publish(
    project_id: str,
    notebook: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Replace the draft with this first."),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Publish the project's draft as its next version."""
    with api_client(url, token) as client:
        if notebook:
            client.put_notebook(project_id, notebook)
        version = client.publish(project_id)
    console.print(f"Published version {version['version']}")


@projects_app.command("published")
def projects_published(
    project_id: str,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
) -> None:
    """Show the run whose outputs the project's published app shows."""
    with api_client(url, token) as client:
        run = client.published_run(project_id)
    if as_json:
        _print_json(run)
        return
    console.print(f"Published results: run {run['runId']} (version {run['projectVersion']})")
    console.print(f"Ran {run['startTime']}, ended {run['endTime']}, trigger {run['runTrigger']}")
    inputs = ", ".join(f"{k}={json.dumps(v)}" for k, v in run["inputParams"].items())
    console.print(f"Inputs: {inputs or 'the notebook defaults'}")


@projects_app.command("queried-tables")
def projects_queried_tables(
    project_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """List the tables the published version's SQL cells read, per data connection."""
    table = Table("connection", "table", "connection id")
    with api_client(url, token) as client:
        for found in client.queried_tables(project_id):
            table.add_row(
                found["dataConnectionName"], found["tableName"], found["dataConnectionId"]
            )
    console.print(table)


@projects_app.command("embed")
def projects_embed(
    project_id: str,
    expires_in: Annotated[
        int, typer.Option(help="Milliseconds the URL stays valid (at most 300000).")
    ] = 15_000,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Input parameter NAME=VALUE.")
    ] = None,
    theme: Annotated[str | None, typer.Option(help="light or dark.")] = None,
    test_mode: Annotated[
        bool,
        typer.Option(
            "--test-mode", help="Show the published results; never run the app with the inputs."
        ),
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Print a short-lived signed URL that opens the published app without signing in.

    With inputs other than the published run's, the page shows the app run with them: a run
    on your behalf, shared by every URL with the same inputs (unless --test-mode)."""
    body: dict[str, Any] = {"expiresIn": expires_in}
    if param:
        body["inputParameters"] = parse_params(param)
    if theme:
        body["displayOptions"] = {"theme": theme}
    if test_mode:
        body["testMode"] = True
    with api_client(url, token) as client:
        link = client.presigned_url(project_id, body)
    sys.stdout.write(link + "\n")


projects_app.command("share")(project_sharing.share)
projects_app.command("sharing")(project_sharing.sharing)


# -- runs ----------------------------------------------------------------------------------


@runs_app.command("trigger")
def runs_trigger(
    project_id: str,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Input parameter NAME=VALUE.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the run ends.")] = False,
    idempotency_key: Annotated[str | None, typer.Option(help="Idempotency-Key header.")] = None,
    update_published_results: Annotated[
        bool,
        typer.Option(help="If it completes, the published app shows its outputs (Can Edit)."),
    ] = False,
    view: Annotated[
        str | None, typer.Option(help="Run with this saved view's inputs (its id).")
    ] = None,
    sql_cache: Annotated[
        bool,
        typer.Option(
            help="SQL cells reuse results kept less than their connection's cache lifetime "
            "ago (useCachedSqlResults); --no-sql-cache queries afresh and refreshes them."
        ),
    ] = True,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """Trigger a run of the project's published version."""
    params = parse_params(param or [])
    options: dict[str, Any] = {}
    if update_published_results:
        options["updatePublishedResults"] = True
    if view:
        options["viewId"] = view
    if not sql_cache:
        options["useCachedSqlResults"] = False
    with api_client(url, token) as client:
        run = client.trigger(project_id, params, idempotency_key=idempotency_key, **options)
        console.print(f"Run {run['runId']} (version {run['projectVersion']})")
        if not wait:
            return
        final = _wait_with_progress(client, project_id, run["runId"])
    _print_status(final)
    if final["status"] != "COMPLETED":
        raise typer.Exit(1)


def _wait_with_progress(client: RunyardClient, project_id: str, run_id: str) -> dict[str, Any]:
    with console.status("PENDING…") as spinner:

        def show(current: dict[str, Any]) -> None:
            seconds = (current.get("elapsedTime") or 0) / 1000
            spinner.update(f"{current['status']} · {seconds:.1f}s")

        return client.wait(project_id, run_id, poll_seconds=0.3, on_poll=show)


def _print_status(run: dict[str, Any]) -> None:
    colour = {"COMPLETED": "green", "RUNNING": "cyan", "PENDING": "yellow"}.get(
        run["status"], "red"
    )
    seconds = (run.get("elapsedTime") or 0) / 1000
    console.print(f"[{colour}]{run['status']}[/{colour}] run {run['runId']} in {seconds:.2f}s")
    if run.get("error"):
        console.print(f"[red]{run['error'].get('message')}[/red]")


@runs_app.command("status")
def runs_status(
    project_id: str,
    run_id: str,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw JSON.")] = False,
) -> None:
    """Show a run's status."""
    with api_client(url, token) as client:
        run = client.status(project_id, run_id)
    _print_json(run) if as_json else _print_status(run)


@runs_app.command("list")
def runs_list(
    project_id: str,
    limit: int = 25,
    offset: int = 0,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = "",
) -> None:
    """List a project's runs, newest first."""
    with api_client(url, token) as client:
        page = client.runs(project_id, limit=limit, offset=offset, status=status)
    table = Table("run", "status", "trigger", "started", "ms")
    for run in page["runs"]:
        table.add_row(
            run["runId"],
            run["status"],
            run["runTrigger"],
            run["startTime"] or "-",
            str(run["elapsedTime"]),
        )
    console.print(table)


@runs_app.command("cancel")
def runs_cancel(
    project_id: str, run_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Cancel a pending or running run."""
    with api_client(url, token) as client:
        client.cancel(project_id, run_id)
    console.print(f"Cancelled run {run_id}")


@runs_app.command("log")
def runs_log(
    project_id: str, run_id: str, url: UrlOption = DEFAULT_URL, token: TokenOption = ""
) -> None:
    """Print a finished run's log."""
    with api_client(url, token) as client:
        text = client.artifact(project_id, run_id, "log")
    sys.stdout.write(text)


@runs_app.command("prune")
def runs_prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list the runs that would be deleted.")
    ] = False,
) -> None:
    """Delete the runs (with their artifacts) that the retention settings let go now, as the
    scheduler does a batch at a time; works on the store of RUNYARD_DATABASE_URL."""
    from runyard.app import build_retention, utcnow
    from runyard.config import Settings
    from runyard.store.db import Database, wait_until_migrated

    settings = Settings()
    wait_until_migrated(settings.resolved_database_url, seconds=0)
    db = Database(settings.resolved_database_url)
    try:
        retention = build_retention(settings, db)
        now = utcnow()
        if not dry_run:
            deleted = retention.prune_all(now)
            console.print(f"Deleted {deleted} run(s) with their artifacts.")
            return
        going = retention.prunable(now, limit=1_000_000)
        table = Table("run", "project", "status", "created")
        for run in going:
            table.add_row(run.run_id, run.project_id, run.status, run.created_at.isoformat())
        console.print(table)
        policy = retention.policy
        console.print(
            f"{len(going)} run(s) would be deleted (older than {policy.days:g} days, beyond "
            f"the newest {policy.keep_last_runs} of their project; running and published "
            "runs are always kept)."
        )
    finally:
        db.dispose()


if __name__ == "__main__":
    app()
