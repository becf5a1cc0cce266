"""Migration 0012 (draft cells): the cells of drafts that existed get their API ids."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.conftest import PG_ADMIN_URL, _pg_available, service_missing
from tests.store.old_rows import insert_owner_and_project

from runyard.domain.cells import api_cell_id
from runyard.store.db import make_engine, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with no schema at all, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    problem = _pg_available()
    if problem is not None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"runyard_m0012_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def test_existing_drafts_are_indexed_with_the_ids_the_code_derives(empty_url: str) -> None:
    upgrade(empty_url, "0011")
    draft = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"id": "cell-0", "cell_type": "markdown", "metadata": {}, "source": "# Hi"},
            {"id": "a1b2c3", "cell_type": "markdown", "metadata": {}, "source": "x"},
        ],
    }
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            insert_owner_and_project(conn)
            conn.execute(
                sa.text("UPDATE projects SET draft_notebook = :nb WHERE id = 'p1'"),
                {"nb": json.dumps(draft)},
            )
        upgrade(empty_url)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, project_id, notebook_cell_id FROM draft_cells ORDER BY 3")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        (api_cell_id("p1", "a1b2c3"), "p1", "a1b2c3"),
        (api_cell_id("p1", "cell-0"), "p1", "cell-0"),
    ]
