"""`runyard projects published`, `runyard runs trigger --update-published-results|--view` and
`runyard views …`, against a real `runyard serve`."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from tests.servers import Server, cli, import_example

pytestmark = [pytest.mark.slow, pytest.mark.kernel]


def test_a_run_publishes_its_results_and_views_are_kept_and_run(server: Server) -> None:
    project_id = import_example(server)
    cli(server, "projects", "published", project_id, expect=1)
    ran = cli(server, "runs", "trigger", project_id, "--update-published-results", "--wait")
    run_id = re.search(r"Run ([0-9a-f-]{36})", ran)
    assert run_id and "COMPLETED" in ran
    shown = cli(server, "projects", "published", project_id)
    assert f"run {run_id.group(1)}" in shown and "the notebook defaults" in shown

    created = cli(server, "views", "create", project_id, "Asia", "-p", "region=APAC")
    view_id = re.search(r"View ([0-9a-f-]{36})", created)
    assert view_id
    assert 'region="APAC"' in cli(server, "views", "list", project_id)
    by_view = cli(server, "runs", "trigger", project_id, "--view", view_id.group(1), "--wait")
    assert "COMPLETED" in by_view
    by_view_id = re.search(r"Run ([0-9a-f-]{36})", by_view)
    assert by_view_id
    status = server.http.get(f"/api/v1/projects/{project_id}/runs/{by_view_id.group(1)}")
    assert status.json()["inputParams"]["region"] == "APAC"
    assert "Asia pacific" in cli(
        server, "views", "rename", project_id, view_id.group(1), "Asia pacific"
    )
    cli(server, "views", "delete", project_id, view_id.group(1))
    assert "Asia" not in cli(server, "views", "list", project_id)


def test_cells_queried_tables_and_embedding_from_the_cli(server: Server) -> None:
    project_id = import_example(server)
    listed = cli(server, "cells", "list", project_id)
    first = re.search(r"([0-9a-f-]{36})\W+CODE", listed)
    assert first
    added = cli(server, "cells", "add", project_id, "print('added')", "--after", first.group(1))
    cell_id = re.search(r"Cell ([0-9a-f-]{36}) \(CODE\)", added)
    assert cell_id
    cli(server, "cells", "edit", cell_id.group(1), "print('edited')")
    assert "print('edited')" in cli(server, "cells", "list", project_id)
    cli(server, "cells", "delete", cell_id.group(1))
    assert cell_id.group(1) not in cli(server, "cells", "list", project_id)

    assert "connection" in cli(server, "projects", "queried-tables", project_id)
    link = cli(server, "projects", "embed", project_id, "--expires-in", "60000").strip()
    assert link.startswith(f"http://127.0.0.1:{server.port}/embed/{project_id}?token=")
    test_link = cli(
        server, "projects", "embed", project_id, "-p", "region=APAC", "--test-mode"
    ).strip()
    page = server.http.get(test_link.removeprefix(f"http://127.0.0.1:{server.port}"))
    assert page.status_code == 200 and "test mode: the app is not run with them" in page.text


def test_no_sql_cache_asks_the_run_to_query_afresh(server: Server) -> None:
    project_id = import_example(server)

    ran = cli(server, "runs", "trigger", project_id, "--no-sql-cache")
    plain = cli(server, "runs", "trigger", project_id)

    ids = [re.search(r"Run ([0-9a-f-]{36})", out) for out in (ran, plain)]
    assert all(ids)
    with sqlite3.connect(server.home / "runyard.db") as db:
        options = {
            run_id: json.loads(raw)["useCachedSqlResults"]
            for run_id, raw in db.execute("select id, options from runs")
        }
    assert [options[found.group(1)] for found in ids if found] == [False, True]
