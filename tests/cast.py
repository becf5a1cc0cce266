"""The cast: builders for notebooks, projects and runs that tests across the suite share."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

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


def published_project(client: TestClient, nb: dict[str, Any], title: str = "Test") -> str:
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
