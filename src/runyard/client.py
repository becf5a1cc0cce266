"""A small Python client for Runyard's API (Hex's API v1 plus Runyard's extensions).

client = RunyardClient("http://127.0.0.1:8080", token)
run = client.trigger(project_id, {"n": 3})
final = client.wait(project_id, run["runId"])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

TERMINAL = {"COMPLETED", "ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL"}


class ApiError(Exception):
    """An error answer from the server, with Hex's error fields."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("reason") or body)
            issues = [i.get("message", "") for i in body.get("issues") or [] if isinstance(i, dict)]
            if issues:
                message += ": " + "; ".join(issues)
        else:
            message = str(body)
        super().__init__(f"{status}: {message}")


class RunyardClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RunyardClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise ApiError(response.status_code, body)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    # -- projects --------------------------------------------------------------------------

    def import_notebook(
        self, path: Path, *, publish: bool = False, title: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"publish": str(publish).lower()}
        if title:
            params["title"] = title
        with path.open("rb") as handle:
            files = {"file": (path.name, handle, "application/x-ipynb+json")}
            result: dict[str, Any] = self._call(
                "POST", "/projects/import", params=params, files=files
            )
        return result

    def projects(self, limit: int = 100) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit}
            if after:
                params["after"] = after
            page = self._call("GET", "/projects", params=params)
            yield from page["values"]
            after = page["pagination"]["after"]
            if not after or not page["values"]:
                return

    def project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}")
        return result

    def publish(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/projects/{project_id}/publish")
        return result

    def put_notebook(self, project_id: str, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PUT",
            f"/projects/{project_id}/notebook",
            content=path.read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        return result

    # -- runs ------------------------------------------------------------------------------

    def trigger(
        self,
        project_id: str,
        input_params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = dict(options)
        if input_params:
            body["inputParams"] = dict(input_params)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        result: dict[str, Any] = self._call(
            "POST", f"/projects/{project_id}/runs", json=body, headers=headers
        )
        return result

    def status(self, project_id: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}/runs/{run_id}")
        return result

    def runs(
        self, project_id: str, *, limit: int = 25, offset: int = 0, status: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["statusFilter"] = status
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}/runs", params=params)
        return result

    def cancel(self, project_id: str, run_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/runs/{run_id}")

    def artifact(self, project_id: str, run_id: str, name: str) -> str:
        response = self._http.get(f"/projects/{project_id}/runs/{run_id}/{name}")
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        return response.text

    # -- schedules -------------------------------------------------------------------------

    def schedules(self, project_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/projects/{project_id}/schedules")[
            "values"
        ]
        return result

    def schedule(self, project_id: str, schedule_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", f"/projects/{project_id}/schedules/{schedule_id}"
        )
        return result

    def add_schedule(self, project_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/projects/{project_id}/schedules", json=dict(body)
        )
        return result

    def update_schedule(
        self, project_id: str, schedule_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/projects/{project_id}/schedules/{schedule_id}", json=dict(changes)
        )
        return result

    def delete_schedule(self, project_id: str, schedule_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/schedules/{schedule_id}")

    def wait(
        self,
        project_id: str,
        run_id: str,
        *,
        poll_seconds: float = 0.5,
        timeout: float | None = None,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until the run reaches a terminal status; return its final status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            current = self.status(project_id, run_id)
            if on_poll:
                on_poll(current)
            if current["status"] in TERMINAL:
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {current['status']} after {timeout}s")
            time.sleep(poll_seconds)
