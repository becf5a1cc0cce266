"""Rows written with plain SQL, as a store at an older migration takes them, for the tests
of what a migration does to the data that was there before it."""

from __future__ import annotations

import sqlalchemy as sa

OLD = "'2026-01-01 00:00:00.000000'"  # a timestamp as an SQL literal, for every dialect


def insert_owner_and_project(conn: sa.Connection) -> None:
    """The editor `u1` and their project `p1` ("Old"), both created at `OLD`."""
    conn.execute(
        sa.text(
            "INSERT INTO users (id, email, role, created_at) "
            f"VALUES ('u1', 'a@example.com', 'EDITOR', {OLD})"
        )
    )
    insert_project(conn, "p1", "Old", OLD)


def insert_project(conn: sa.Connection, project_id: str, title: str, at: str) -> None:
    """A project of `u1`'s created at `at` (an SQL literal)."""
    conn.execute(
        sa.text(
            "INSERT INTO projects (id, title, type, creator_id, owner_id, created_at, "
            "last_edited_at) VALUES (:id, :title, 'PROJECT', 'u1', 'u1', "
            f"{at}, {at})"
        ),
        {"id": project_id, "title": title},
    )
