"""The permission matrix's cast: one workspace, the callers it tests, and request builders.

The matrix (`test_permission_matrix.py`) sends every /api/v1 route from every kind of caller.
Building a workspace per request would take minutes, so one `World` serves the whole module:

- a test user of each role, each holding FULL_ACCESS on the project through a direct share
  (so their role, which caps access, decides), each with a personal token;
- EDITOR and MANAGER users holding each weaker access level on that project (none at all,
  APP_ONLY, CAN_VIEW, CAN_EDIT), for the access-level half of the matrix;
- the project `P` (published, input `wait`), a finished run with its artifacts, a paused
  schedule, a bystander user and group (targets of edits and shares, never callers), a
  collection and a data connection every test user may see, and a collection nobody but the
  admin sees (`vault`) for project-to-collection shares, so those shares grant no test user
  anything;
- a run of `P` that sleeps in the only kernel slot (`max_concurrent_kernels=1`), so every run
  the matrix starts waits PENDING: cancelling one answers 204 without a kernel, and the module
  stays fast. Teardown cancels them all.

Destructive routes act on a fresh object per request (see the `fresh_*` builders), so each
cell of the matrix has its own target and no cell depends on another's outcome.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from runyard.app import Runtime, build_runtime, create_app
from runyard.config import Settings
from runyard.store.identity import ApiTokenRow
from tests.cast import (
    bearer,
    new_collection,
    new_connection,
    new_group,
    new_user,
    notebook,
    personal_token,
    trigger,
    wait_for_end,
    wait_for_status,
)
from tests.conftest import BOOTSTRAP_TOKEN, GENEROUS_RATE_LIMITS

# -- the vocabulary of the rules, written out here rather than imported from runyard ---------

ROLES = ("ADMIN", "MANAGER", "EDITOR", "EXPLORER", "MEMBER", "GUEST")  # strongest first
LEVELS = ("NONE", "APP_ONLY", "CAN_VIEW", "CAN_EDIT", "FULL_ACCESS")  # weakest first
# The strongest project access each role can exercise, whatever it was granted.
CEILING = {
    "ADMIN": "FULL_ACCESS",
    "MANAGER": "FULL_ACCESS",
    "EDITOR": "FULL_ACCESS",
    "EXPLORER": "CAN_VIEW",
    "MEMBER": "APP_ONLY",
    "GUEST": "APP_ONLY",
}
ALL_SCOPES = (
    "projects:read",
    "projects:write",
    "projects:run",
    "projects:read_queried_tables",
    "users:read",
    "users:write",
    "groups:read",
    "groups:write",
    "collections:read",
    "collections:write",
    "connections:read",
    "connections:write",
    "cells:read",
    "cells:write",
)


def role_at_least(role: str, least: str) -> bool:
    return ROLES.index(role) <= ROLES.index(least)


def level_at_least(level: str, least: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(least)


# `P`'s notebook: a run sleeps `wait` seconds, so a run given a long wait stays cancellable;
# its last cell shows a table, the output GET /cells/{cellId}/output reads.
TABLE_CELL = "__import__('pandas').DataFrame({'waited': [wait]})"
PROJECT_NOTEBOOK = notebook(
    "import time\ntime.sleep(wait)\nprint('done')",
    TABLE_CELL,
    parameters="wait = 0",
)
LONG_WAIT = {"inputParams": {"wait": 600}}
# Access levels the access-level test gives its users on `P` (FULL_ACCESS is the matrix's).
WEAKER_LEVELS = ("NONE", "APP_ONLY", "CAN_VIEW", "CAN_EDIT")


@dataclass(frozen=True)
class Member:
    """A test user and a personal token of theirs."""

    role: str
    user_id: str
    token: str


@dataclass
class World:
    app: FastAPI
    admin: TestClient  # sends the bootstrap token (a workspace token of the first admin)
    bare: TestClient  # sends no Authorization header unless a request gives one
    admin_id: str
    members: dict[str, Member] = field(default_factory=dict)  # by role
    # By (role, access on P): EDITOR and MANAGER users holding each of WEAKER_LEVELS.
    graded: dict[tuple[str, str], Member] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # standing objects, by path parameter
    vault_collection_id: str = ""
    bystander_group_id: str = ""
    revoked_token: str = ""
    expired_token: str = ""
    _scoped: dict[frozenset[str], str] = field(default_factory=dict)
    _serial: Iterator[int] = field(default_factory=itertools.count)

    def serial(self) -> int:
        return next(self._serial)

    def workspace_token(self, scopes: frozenset[str]) -> str:
        """A workspace token of the bootstrap admin with exactly `scopes` (one per set)."""
        if scopes not in self._scoped:
            self._scoped[scopes] = self.new_token({"type": "WORKSPACE", "scopes": sorted(scopes)})[
                "token"
            ]
        return self._scoped[scopes]

    def new_token(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.admin.post("/api/v1/tokens", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@dataclass(frozen=True)
class Target:
    """Who is calling, for builders whose request depends on it (their own token)."""

    caller_id: str


# -- fresh objects, one per request ----------------------------------------------------------


def fresh_pending_run(world: World, _target: Target) -> dict[str, str]:
    """A run of P that waits PENDING behind the run holding the kernel slot."""
    run_id: str = trigger(world.admin, world.ids["projectId"], **LONG_WAIT)["runId"]
    return {"runId": run_id}


def fresh_schedule(world: World, _target: Target) -> dict[str, str]:
    response = world.admin.post(
        f"/api/v1/projects/{world.ids['projectId']}/schedules", json=paused_schedule()
    )
    assert response.status_code == 201, response.text
    schedule_id: str = response.json()["id"]
    return {"scheduleId": schedule_id}


def fresh_view(world: World, _target: Target) -> dict[str, str]:
    return {"viewId": _new_view(world.admin, world.ids["projectId"], f"Fresh {world.serial()}")}


def _new_view(admin: TestClient, project_id: str, name: str) -> str:
    response = admin.post(
        f"/api/v1/projects/{project_id}/views", json={"name": name, "inputParams": {"wait": 1}}
    )
    assert response.status_code == 201, response.text
    view_id: str = response.json()["id"]
    return view_id


def fresh_cell(world: World, _target: Target) -> dict[str, str]:
    response = world.admin.post("/api/v1/cells", json=new_cell_body(world, _target))
    assert response.status_code == 200, response.text
    return {"cellId": response.json()["id"]}


def fresh_user(world: World, _target: Target) -> dict[str, str]:
    user_id: str = new_user(world.admin, f"fresh-{world.serial()}@example.com", "MEMBER")["id"]
    return {"userId": user_id}


def fresh_deactivated_user(world: World, target: Target) -> dict[str, str]:
    made = fresh_user(world, target)
    response = world.admin.post(f"/api/v1/users/{made['userId']}/deactivate")
    assert response.status_code == 200, response.text
    return made


def fresh_group(world: World, _target: Target) -> dict[str, str]:
    return {"groupId": new_group(world.admin, f"Fresh group {world.serial()}")}


def fresh_connection(world: World, _target: Target) -> dict[str, str]:
    connection_id: str = new_connection(world.admin, f"Fresh connection {world.serial()}")["id"]
    return {"dataConnectionId": connection_id}


def fresh_own_token(world: World, target: Target) -> dict[str, str]:
    """A new token of the caller's own user: personal for a user, a workspace token (with no
    scopes) for the bootstrap admin, whose workspace tokens are "their own"."""
    if target.caller_id == world.admin_id:
        body: dict[str, Any] = {"type": "WORKSPACE", "scopes": []}
    else:
        body = {"type": "PERSONAL", "userId": target.caller_id}
    return {"tokenId": world.new_token(body)["id"]}


def fresh_others_token(world: World, _target: Target) -> dict[str, str]:
    """A new personal token of the bystander, who is never a caller."""
    body = {"type": "PERSONAL", "userId": world.ids["userId"]}
    return {"tokenId": world.new_token(body)["id"]}


# -- bodies ------------------------------------------------------------------------------------


def paused_schedule() -> dict[str, Any]:
    return {
        "cadence": "DAILY",
        "timezone": "UTC",
        "daily": {"hour": 3, "minute": 0},
        "enabled": False,
    }


def new_connection_body(world: World, _target: Target) -> dict[str, Any]:
    return {
        "name": f"New connection {world.serial()}",
        "type": "postgres",
        "connectionDetails": {
            "postgres": {
                "hostname": "db.internal",
                "port": 5432,
                "database": "sales",
                "username": "analyst",
                "password": "pg-secret-0001",
            }
        },
    }


def share_with_bystander(world: World, _target: Target) -> dict[str, Any]:
    entry = {"user": {"id": world.ids["userId"]}, "access": "FULL_ACCESS"}
    return {"sharing": {"upsert": {"users": [entry]}}}


def share_with_bystander_group(world: World, _target: Target) -> dict[str, Any]:
    entry = {"group": {"id": world.bystander_group_id}, "access": "CAN_VIEW"}
    return {"sharing": {"upsert": {"groups": [entry]}}}


def share_into_vault(world: World, _target: Target) -> dict[str, Any]:
    entry = {"collection": {"id": world.vault_collection_id}, "access": "CAN_VIEW"}
    return {"sharing": {"upsert": {"collections": [entry]}}}


def named(prefix: str) -> Any:
    """A body `{"name": "<prefix> <n>"}`, unique per request."""

    def body(world: World, _target: Target) -> dict[str, Any]:
        return {"name": f"{prefix} {world.serial()}"}

    return body


def new_view_body(world: World, _target: Target) -> dict[str, Any]:
    return {"name": f"View {world.serial()}", "inputParams": {"wait": 2}}


def new_cell_body(world: World, _target: Target) -> dict[str, Any]:
    return {
        "projectId": world.ids["projectId"],
        "cellType": "MARKDOWN",
        "contents": {"markdownCell": {"source": f"Note {world.serial()}"}},
    }


def cells_query(world: World, _target: Target) -> dict[str, Any]:
    return {"projectId": world.ids["projectId"]}


def new_user_body(world: World, _target: Target) -> dict[str, Any]:
    return {"email": f"new-{world.serial()}@example.com", "role": "MEMBER"}


def constant(value: Any) -> Any:
    """A body that is the same for every request."""

    def body(_world: World, _target: Target) -> Any:
        return value

    return body


# -- building the world --------------------------------------------------------------------------


@contextmanager
def built_world(sqlite_template: Path, home: Path) -> Iterator[World]:
    """The world, on a copy of the migrated SQLite template, with its runtime running."""
    database = home / "runyard.db"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        home=home / "home",
        database_url=f"sqlite:///{database}",
        bootstrap_token=BOOTSTRAP_TOKEN,
        public_url="http://127.0.0.1:8080",
        # One slot: the sleeping run below holds it, so runs the matrix starts stay PENDING.
        max_concurrent_kernels=1,
        secret_key="test-secret-key",
        rate_limits=GENEROUS_RATE_LIMITS,
        shutdown_grace_seconds=0,
    )
    runtime = build_runtime(settings, migrate=False)
    app = create_app(runtime)
    with TestClient(app, headers=bearer(BOOTSTRAP_TOKEN)) as admin:
        # Not entered: the admin client's lifespan already runs the runtime.
        bare = TestClient(app)
        me = admin.get("/api/v1/tokens").json()["values"][0]["user"]
        world = World(app=app, admin=admin, bare=bare, admin_id=me["id"])
        try:
            _populate(world, runtime)
            yield world
        finally:
            _cancel_active_runs(world)
            bare.close()


def _populate(world: World, runtime: Runtime) -> None:
    admin = world.admin
    project_id = _published_project(admin)
    world.ids["projectId"] = project_id
    # It updates the published results, so that the published run is there to read.
    finished = trigger(admin, project_id, updatePublishedResults=True)["runId"]
    assert wait_for_end(admin, project_id, finished)["status"] == "COMPLETED"
    holder = trigger(admin, project_id, **LONG_WAIT)["runId"]
    wait_for_status(admin, project_id, holder, "RUNNING")
    schedule_id = fresh_schedule(world, Target(world.admin_id))["scheduleId"]
    bystander: str = new_user(admin, "bystander@example.com", "MEMBER", "Bystander")["id"]
    world.bystander_group_id = new_group(admin, "Bystanders", [bystander])

    for role in ROLES:
        user_id: str = new_user(admin, f"{role.lower()}@example.com", role)["id"]
        world.members[role] = Member(role, user_id, personal_token(admin, user_id))
    for role in ("EDITOR", "MANAGER"):
        for level in WEAKER_LEVELS:
            email = f"{role.lower()}-{level.lower().replace('_', '-')}@example.com"
            user_id = new_user(admin, email, role)["id"]
            world.graded[(role, level)] = Member(role, user_id, personal_token(admin, user_id))
    grants = [(m.user_id, "FULL_ACCESS") for m in world.members.values()] + [
        (m.user_id, level) for (_, level), m in world.graded.items() if level != "NONE"
    ]
    shared = admin.patch(
        f"/api/v1/projects/{project_id}/sharing/users",
        json={
            "sharing": {"upsert": {"users": [{"user": {"id": u}, "access": a} for u, a in grants]}}
        },
    )
    assert shared.status_code == 200 and "errors" not in shared.json(), shared.text

    # Collections are visible to non-managers only when shared with them.
    everyone = [m.user_id for m in world.members.values()]
    collection_id = new_collection(
        admin,
        "Shared with the cast",
        sharing={"users": [{"id": u, "access": "CAN_VIEW"} for u in everyone]},
    )
    world.vault_collection_id = new_collection(admin, "Vault")
    # Connections are visible to non-admins only when shared with them: guests too.
    connection = new_connection(
        admin,
        "Shared connection",
        sharing={"workspace": {"members": "QUERY", "guests": "QUERY"}},
    )
    cells = admin.get("/api/v1/cells", params={"projectId": project_id}).json()["values"]
    world.ids.update(
        cellId=cells[2]["id"],  # TABLE_CELL
        viewId=_new_view(admin, project_id, "Standing view"),
        projectId=project_id,
        runId=finished,
        scheduleId=schedule_id,
        userId=bystander,
        groupId=world.bystander_group_id,
        collectionId=collection_id,
        dataConnectionId=connection["id"],
    )

    revoked = world.new_token({"type": "WORKSPACE", "scopes": list(ALL_SCOPES)})
    assert admin.delete(f"/api/v1/tokens/{revoked['id']}").status_code == 204
    world.revoked_token = revoked["token"]
    expiring = world.new_token({"type": "PERSONAL", "userId": world.members["ADMIN"].user_id})
    # The API refuses an expiry in the past and the suite does not sleep: age the real token
    # in the store instead, as time passing would.
    with runtime.db.write() as session:
        row = session.get(ApiTokenRow, expiring["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    world.expired_token = expiring["token"]


def _published_project(admin: TestClient) -> str:
    created = admin.post("/api/v1/projects", json={"title": "Matrix"})
    assert created.status_code == 201, created.text
    project_id: str = created.json()["id"]
    put = admin.put(f"/api/v1/projects/{project_id}/notebook", json=PROJECT_NOTEBOOK)
    assert put.status_code == 200, put.text
    assert admin.post(f"/api/v1/projects/{project_id}/publish").status_code == 201
    return project_id


def _cancel_active_runs(world: World) -> None:
    """Cancel every run of P still waiting, then the one in the kernel slot, so that the
    runtime stops promptly. (A cancelled PENDING run ends at once; a RUNNING one ends when
    its worker has killed the kernel, so it is asked once, not polled.)"""
    project_id = world.ids.get("projectId")
    if project_id is None:
        return
    runs = f"/api/v1/projects/{project_id}/runs"
    while pending := world.admin.get(runs, params={"statusFilter": "PENDING", "limit": 100}).json()[
        "runs"
    ]:
        for run in pending:
            world.admin.delete(f"{runs}/{run['runId']}")
    for run in world.admin.get(runs, params={"statusFilter": "RUNNING"}).json()["runs"]:
        world.admin.delete(f"{runs}/{run['runId']}")
