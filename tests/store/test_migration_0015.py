"""Migration 0015 (embedded runs): existing runs stay; one row per (project, version,
inputs) is what keeps concurrent embedded opens to one run; downgrading drops only that."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from tests.store.old_rows import OLD, insert_owner_and_project

from runyard.store.db import alembic_config, make_engine, upgrade


def _insert_run(conn: sa.Connection, run_id: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO runs (id, project_id, project_version, status, trigger, input_params, "
            "options, trace_id, timeout_seconds, created_at, cancel_requested, rung_at) "
            "VALUES (:id, 'p1', 1, 'COMPLETED', 'APP_REFRESH', '{}', '{}', 't', 60, "
            f"{OLD}, :no, {OLD})"
        ),
        {"id": run_id, "no": False},
    )


def _name_run(conn: sa.Connection, run_id: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO embedded_runs (project_id, project_version, inputs_key, run_id, "
            f"created_at) VALUES ('p1', 1, 'k', :run, {OLD})"
        ),
        {"run": run_id},
    )


def test_one_run_per_version_and_inputs_and_runs_that_existed_stay(empty_url: str) -> None:
    upgrade(empty_url, "0014")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            insert_owner_and_project(conn)
            _insert_run(conn, "r1")
            _insert_run(conn, "r2")
        upgrade(empty_url)
        with engine.begin() as conn:
            _name_run(conn, "r1")
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            _name_run(conn, "r2")
        command.downgrade(alembic_config(empty_url), "0014")
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one()
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert runs == 2 and "embedded_runs" not in tables
