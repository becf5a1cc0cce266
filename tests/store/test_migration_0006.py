"""Migration 0006 (project sharing) takes no one's access away from projects that exist."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from tests.store.old_rows import insert_owner_and_project, insert_project

from runyard.store.db import make_engine, upgrade


def test_projects_that_existed_stay_open_to_the_workspace_and_new_ones_are_private(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            insert_owner_and_project(conn)
        upgrade(url)
        with engine.begin() as conn:
            insert_project(conn, "p2", "New", "'2026-01-02 00:00:00.000000'")
            rows = dict(conn.execute(sa.text("SELECT id, workspace_access FROM projects")).all())
    finally:
        engine.dispose()
    assert rows == {"p1": "CAN_EDIT", "p2": None}
