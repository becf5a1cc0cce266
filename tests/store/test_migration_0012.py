"""Migration 0012 (draft cells): the cells of drafts that existed get their API ids."""

from __future__ import annotations

import json

import sqlalchemy as sa
from tests.store.old_rows import insert_owner_and_project

from runyard.domain.cells import api_cell_id
from runyard.store.db import make_engine, upgrade


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
