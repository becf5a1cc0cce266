"""`runyard serve` migrates the store in a child process: it brings a store to head, refuses
a store newer than the code, and reports failures in words, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from tests.servers import RUNYARD

from runyard.store.db import alembic_config, make_engine, upgrade
from runyard.store.migrate_process import StoreMigrationFailed, store_at_head, upgrade_in_child
from runyard.store.operations import at_head, code_heads


def revisions_of(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(
                connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
            )
    finally:
        engine.dispose()


def mark_newer(url: str) -> None:
    """Migrate the store at `url`, then put it at a revision this code does not know. Only
    on stores of the test's own (`empty_url`): the session's shared store must stay at head."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()


def test_the_child_brings_an_empty_store_to_this_codes_head(empty_url: str) -> None:
    upgrade_in_child(empty_url)

    assert revisions_of(empty_url) == set(code_heads())


def test_the_child_leaves_a_store_at_head_as_it_is(database_url: str) -> None:
    upgrade_in_child(database_url)

    assert revisions_of(database_url) == set(code_heads())


def test_it_refuses_a_store_newer_than_the_code_and_leaves_it_untouched(
    empty_url: str,
) -> None:
    mark_newer(empty_url)

    with pytest.raises(StoreMigrationFailed) as refused:
        upgrade_in_child(empty_url)

    assert str(refused.value) == (
        "The store is at revision 9999, newer than this Runyard; upgrade Runyard on this machine"
    )
    assert revisions_of(empty_url) == {"9999"}


def test_a_store_it_cannot_reach_is_reported_in_the_drivers_words_without_the_password() -> None:
    url = "postgresql+psycopg://runyard:s3cret-pass@127.0.0.1:1/runyard"

    with pytest.raises(StoreMigrationFailed) as failed:
        upgrade_in_child(url)

    message = str(failed.value)
    assert message.startswith("Could not migrate the store: ")
    assert "s3cret-pass" not in message
    assert "Traceback" not in message


def test_serve_refuses_to_start_on_a_store_newer_than_the_code(
    empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark_newer(empty_url)
    monkeypatch.setenv("RUNYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUNYARD_DATABASE_URL", empty_url)

    # A real `runyard serve`: it replaces itself with the server program (cli/server.py).
    result = subprocess.run(
        [str(RUNYARD), "serve"], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 1, result.stderr
    assert "newer than this Runyard" in result.stderr


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))

    assert code_heads() == frozenset(script.get_heads())


def test_a_store_never_migrated_is_not_at_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with sa.orm.Session(engine) as session:
            assert not at_head(session)
    finally:
        engine.dispose()


def test_serve_starts_no_child_for_a_store_at_head_and_one_for_any_other(
    empty_url: str, database_url: str
) -> None:
    assert store_at_head(database_url)
    assert not store_at_head(empty_url)
    mark_newer(empty_url)
    assert not store_at_head(empty_url)  # the child refuses it, in words
    assert not store_at_head("postgresql+psycopg://nobody@127.0.0.1:1/none")
