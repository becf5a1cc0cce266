"""`runyard projects share|sharing` against a real `runyard serve` process."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from tests.cast import notebook
from tests.cli.test_groups_collections_cli import created_id
from tests.servers import Server, cli

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def project_id(server: Server, tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("nb") / "report.ipynb"
    path.write_text(json.dumps(notebook("print(1)")))
    return created_id(cli(server, "projects", "import", str(path)))


def test_a_project_is_shared_with_a_user_by_email_a_group_and_the_workspace(
    server: Server, project_id: str
) -> None:
    cli(server, "users", "create", "ada@example.com", "--role", "EDITOR")
    group = created_id(cli(server, "groups", "create", "Analysts"))
    out = cli(
        server,
        "projects",
        "share",
        project_id,
        "--user",
        "ada@example.com=can_view",
        "--group",
        f"{group}=APP_ONLY",
        "--workspace",
        "APP_ONLY",
    )
    assert "user ada@example.com: CAN_VIEW" in out
    assert "group Analysts: APP_ONLY" in out
    assert "workspace: APP_ONLY" in out
    shown = cli(server, "projects", "sharing", project_id)
    assert "user ada@example.com: CAN_VIEW" in shown

    cli(server, "projects", "share", project_id, "--user", "ada@example.com=NONE")
    assert "ada@example.com" not in cli(server, "projects", "sharing", project_id)


def test_skipped_entries_are_reported_and_the_command_fails(
    server: Server, project_id: str
) -> None:
    stranger = str(uuid.uuid4())
    out = cli(server, "projects", "share", project_id, "--user", f"{stranger}=CAN_VIEW", expect=1)
    assert f"skipped {stranger}: User not found" in out


def test_bad_options_are_refused_before_anything_is_sent(server: Server, project_id: str) -> None:
    for args in (
        ["--user", "ada@example.com=OWNER"],
        ["--user", "=CAN_VIEW"],
        ["--workspace", "EVERYONE"],
        [],
        ["--user", "nobody@example.com=CAN_VIEW"],
    ):
        out = cli(server, "projects", "share", project_id, *args, expect=2)
        assert "Invalid value" in out or "Error" in out, out
