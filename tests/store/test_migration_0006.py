"""Migration 0006 (project sharing) takes no one's access away from projects that exist."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from runyard.store.db import make_engine, upgrade


def test_projects_that_existed_stay_open_to_the_workspace_and_new_ones_are_private(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, role, created_at) "
                    "VALUES ('u1', 'a@example.com', 'EDITOR', '2026-01-01 00:00:00.000000')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO projects (id, title, type, creator_id, owner_id, created_at, "
                    "last_edited_at) VALUES ('p1', 'Old', 'PROJECT', 'u1', 'u1', "
                    "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')"
                )
            )
        upgrade(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO projects (id, title, type, creator_id, owner_id, created_at, "
                    "last_edited_at) VALUES ('p2', 'New', 'PROJECT', 'u1', 'u1', "
                    "'2026-01-02 00:00:00.000000', '2026-01-02 00:00:00.000000')"
                )
            )
            rows = dict(conn.execute(sa.text("SELECT id, workspace_access FROM projects")).all())
    finally:
        engine.dispose()
    assert rows == {"p1": "CAN_EDIT", "p2": None}
