"""Migration 0014 (SQL result cache): connections that existed get the default lifetime."""

from __future__ import annotations

import sqlalchemy as sa
from tests.store.old_rows import OLD, insert_owner_and_project

from runyard.store.db import make_engine, upgrade


def test_existing_connections_keep_results_for_five_minutes(empty_url: str) -> None:
    upgrade(empty_url, "0013")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            insert_owner_and_project(conn)
            conn.execute(
                sa.text(
                    "INSERT INTO data_connections (id, name, type, details, secrets, "
                    "connect_via_ssh, include_magic, allow_writeback_cells, "
                    "schema_refresh_access, public_access, guests_access, members_access, "
                    f"created_by, created_at, updated_at) VALUES ('c1', 'Shop', 'sqlite', "
                    "'{}', '{}', :no, :no, :no, 'ADMINS', 'NONE', 'NONE', 'QUERY', 'u1', "
                    f"{OLD}, {OLD})"
                ),
                {"no": False},
            )
        upgrade(empty_url)
        with engine.connect() as conn:
            lifetime = conn.execute(
                sa.text("SELECT sql_cache_lifetime_seconds FROM data_connections")
            ).scalar_one()
            kept = conn.execute(sa.text("SELECT count(*) FROM sql_results")).scalar_one()
    finally:
        engine.dispose()
    assert (lifetime, kept) == (300, 0)
