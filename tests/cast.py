"""The cast: builders for notebooks, projects and runs that tests across the suite share."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from runyard.store import runs as run_store
from tests.conftest import BOOTSTRAP_TOKEN

AUTH = {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"}
TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}


def notebook(*sources: str, parameters: str | None = None) -> dict[str, Any]:
    """An nbformat-4 notebook: an optional `parameters` cell, then one code cell a source."""
    cells: list[dict[str, Any]] = []
    if parameters is not None:
        cells.append(
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": parameters,
                "outputs": [],
                "execution_count": None,
            }
        )
    for source in sources:
        cells.append(
            {
                "cell_type": "code",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        )
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}
        },
        "cells": cells,
    }


def published_project(client: httpx.Client, nb: dict[str, Any], title: str = "Test") -> str:
    created = client.post("/api/v1/projects", json={"title": title})
    assert created.status_code == 201, created.text
    project_id: str = created.json()["id"]
    put = client.put(
        f"/api/v1/projects/{project_id}/notebook",
        content=json.dumps(nb),
        headers={"Content-Type": "application/json"},
    )
    assert put.status_code == 200, put.text
    published = client.post(f"/api/v1/projects/{project_id}/publish")
    assert published.status_code == 201, published.text
    return project_id


def trigger(client: TestClient, project_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/projects/{project_id}/runs", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def wait_for_end(
    client: TestClient, project_id: str, run_id: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/projects/{project_id}/runs/{run_id}")
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        if run["status"] in TERMINAL:
            return run
        assert time.monotonic() < deadline, f"run still {run['status']} after {timeout}s"
        time.sleep(0.1)


def wait_for_pages(client: TestClient, run_id: str, timeout: float = 30) -> None:
    """Wait until the ended run's HTML pages are saved: they are rendered just after the
    run is marked ended (services/execution.py), and a request for one meanwhile renders it
    without saving, so only the store can tell."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while True:
        with runtime.db.read() as session:
            if run_store.get_artifact(session, run_id, "app") is not None:
                return
        assert time.monotonic() < deadline, f"run {run_id}'s pages were never saved"
        time.sleep(0.02)


def wait_for_status(
    client: TestClient, project_id: str, run_id: str, status: str, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/api/v1/projects/{project_id}/runs/{run_id}").json()
        if run["status"] == status:
            return run
        assert run["status"] not in TERMINAL - {status}, run
        assert time.monotonic() < deadline, f"run still {run['status']} after {timeout}s"
        time.sleep(0.05)


# -- users and tokens ----------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_user(
    client: TestClient, email: str, role: str = "EDITOR", name: str | None = None
) -> dict[str, Any]:
    """A user created by the bootstrap admin."""
    body: dict[str, Any] = {"email": email, "role": role}
    if name is not None:
        body["name"] = name
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def personal_token(client: TestClient, user_id: str, **body: Any) -> str:
    """A personal token (`hxtp_…`) the bootstrap admin issues for `user_id`."""
    response = client.post("/api/v1/tokens", json={"type": "PERSONAL", "userId": user_id, **body})
    assert response.status_code == 201, response.text
    secret: str = response.json()["token"]
    return secret


def workspace_token(client: TestClient, scopes: list[str], **body: Any) -> str:
    """A workspace token (`hxtw_…`) of the bootstrap admin with these scopes."""
    response = client.post("/api/v1/tokens", json={"type": "WORKSPACE", "scopes": scopes, **body})
    assert response.status_code == 201, response.text
    secret: str = response.json()["token"]
    return secret


# -- groups and collections ----------------------------------------------------------------


def new_group(client: TestClient, name: str, member_ids: list[str] | None = None) -> str:
    body: dict[str, Any] = {"name": name}
    if member_ids is not None:
        body["members"] = {"users": [{"id": i} for i in member_ids]}
    response = client.post("/api/v1/groups", json=body)
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    return group_id


def new_collection(client: TestClient, name: str, **body: Any) -> str:
    response = client.post("/api/v1/collections", json={"name": name, **body})
    assert response.status_code == 201, response.text
    collection_id: str = response.json()["id"]
    return collection_id


# -- data connections ------------------------------------------------------------------------


def postgres_details(password: str = "pg-secret-0001", **fields: Any) -> dict[str, Any]:
    """Hex's `connectionDetails` envelope for a PostgreSQL connection."""
    inner = {
        "hostname": "db.internal",
        "port": 5432,
        "database": "sales",
        "username": "analyst",
        "password": password,
        **fields,
    }
    return {"postgres": inner}


def new_connection(client: TestClient, name: str = "Warehouse", **body: Any) -> dict[str, Any]:
    """A data connection (PostgreSQL unless `type` and `connectionDetails` say otherwise)."""
    payload = {"name": name, "type": "postgres", "connectionDetails": postgres_details(), **body}
    response = client.post("/api/v1/data-connections", json=payload)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- saved views -------------------------------------------------------------------------------


def new_view(client: TestClient, project_id: str, name: str, inputs: dict[str, Any]) -> str:
    response = client.post(
        f"/api/v1/projects/{project_id}/views", json={"name": name, "inputParams": inputs}
    )
    assert response.status_code == 201, response.text
    view_id: str = response.json()["id"]
    return view_id


# -- a workspace with one of everything --------------------------------------------------------


def one_of_everything(client: TestClient) -> dict[str, str]:
    """A published project (inputs `n`, an int, `ratio`, a float, and `label`, a string) with a
    finished run that updated its published results, a paused schedule, a saved view and draft
    cells, a user with a personal token, a group, a collection and a data connection: the ids,
    by the name of the path parameter each fills (`projectId`, `runId`, …). Nothing is left running,
    so the database stays still until the next request changes it."""
    project_id = published_project(
        client, notebook("m = n * ratio", parameters="n = 1\nratio = 0.5\nlabel = 'x'"), "Seeded"
    )
    run_id = trigger(client, project_id, updatePublishedResults=True)["runId"]
    wait_for_end(client, project_id, run_id)
    wait_for_pages(client, run_id)
    schedule = client.post(
        f"/api/v1/projects/{project_id}/schedules",
        json={
            "cadence": "DAILY",
            "timezone": "UTC",
            "daily": {"hour": 3, "minute": 0},
            "enabled": False,
        },
    )
    assert schedule.status_code == 201, schedule.text
    schedule_id: str = schedule.json()["id"]
    user_id: str = new_user(client, "seeded@example.com", role="EDITOR", name="Seeded")["id"]
    token = client.post("/api/v1/tokens", json={"type": "PERSONAL", "userId": user_id})
    assert token.status_code == 201, token.text
    return {
        "projectId": project_id,
        "runId": run_id,
        "scheduleId": schedule_id,
        "userId": user_id,
        "tokenId": token.json()["id"],
        "groupId": new_group(client, "Seeded group", [user_id]),
        "collectionId": new_collection(client, "Seeded collection"),
        "dataConnectionId": new_connection(client, "Seeded connection")["id"],
        "viewId": new_view(client, project_id, "Seeded view", {"n": 2}),
        "cellId": client.get("/api/v1/cells", params={"projectId": project_id}).json()["values"][0][
            "id"
        ],
    }
