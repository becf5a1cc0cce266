"""A small Python client for Runyard's API (Hex's API v1 plus Runyard's extensions).

client = RunyardClient("http://127.0.0.1:8080", token)
run = client.trigger(project_id, {"n": 3})
final = client.wait(project_id, run["runId"])
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

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
    """Speaks to one server with one token.

    A 429 (the token's rate limit is used up) is retried after the server's `Retry-After`,
    up to `rate_limit_retries` times and only while the wait is at most
    `max_rate_limit_wait` seconds; past that the 429 is raised as ApiError.
    `on_rate_limited(seconds)` is told before each such wait.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        rate_limit_retries: int = 3,
        max_rate_limit_wait: float = 60.0,
        on_rate_limited: Callable[[float], None] | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self._rate_limit_retries = rate_limit_retries
        self._max_rate_limit_wait = max_rate_limit_wait
        self._on_rate_limited = on_rate_limited

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RunyardClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The server's answer, after waiting out and retrying 429s (see the class)."""
        retries = 0
        while True:
            response = self._http.request(method, path, **kwargs)
            if response.status_code != 429 or retries >= self._rate_limit_retries:
                return response
            wait = _retry_after_seconds(response, retries)
            if wait > self._max_rate_limit_wait:
                return response
            log.info("%s %s: rate limited, retrying in %.0f s", method, path, wait)
            if self._on_rate_limited:
                self._on_rate_limited(wait)
            time.sleep(wait)
            retries += 1

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
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
        # Bytes, not an open file: a retried request (after a 429) must send the file again.
        files = {"file": (path.name, path.read_bytes(), "application/x-ipynb+json")}
        result: dict[str, Any] = self._call("POST", "/projects/import", params=params, files=files)
        return result

    def projects(self, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/projects", {"limit": limit})

    def project(self, project_id: str, *, include_sharing: bool = False) -> dict[str, Any]:
        params = {"includeSharing": "true"} if include_sharing else None
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}", params=params)
        return result

    def share_project_with_users(
        self, project_id: str, access_by_user: Mapping[str, str]
    ) -> dict[str, Any]:
        """Give users (by id) an access level each (`NONE` takes it away); the answer is
        `{project, errors?}`."""
        entries = [{"user": {"id": u}, "access": a} for u, a in access_by_user.items()]
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/projects/{project_id}/sharing/users",
            json={"sharing": {"upsert": {"users": entries}}},
        )
        return result

    def share_project_with_groups(
        self, project_id: str, access_by_group: Mapping[str, str]
    ) -> dict[str, Any]:
        entries = [{"group": {"id": g}, "access": a} for g, a in access_by_group.items()]
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/projects/{project_id}/sharing/groups",
            json={"sharing": {"upsert": {"groups": entries}}},
        )
        return result

    def share_project_with_workspace(self, project_id: str, access: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/projects/{project_id}/sharing/workspaceAndPublic",
            json={"sharing": {"workspace": access}},
        )
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

    def published_run(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/projects/{project_id}/publishedRun")
        return result

    def cancel(self, project_id: str, run_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/runs/{run_id}")

    def artifact(self, project_id: str, run_id: str, name: str) -> str:
        response = self._send("GET", f"/projects/{project_id}/runs/{run_id}/{name}")
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        return response.text

    # -- saved views -----------------------------------------------------------------------

    def views(self, project_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/projects/{project_id}/views")["values"]
        return result

    def create_view(
        self, project_id: str, name: str, input_params: Mapping[str, Any]
    ) -> dict[str, Any]:
        body = {"name": name, "inputParams": dict(input_params)}
        result: dict[str, Any] = self._call("POST", f"/projects/{project_id}/views", json=body)
        return result

    def rename_view(self, project_id: str, view_id: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/projects/{project_id}/views/{view_id}", json={"name": name}
        )
        return result

    def delete_view(self, project_id: str, view_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/views/{view_id}")

    # -- cells, queried tables, embedding ---------------------------------------------------

    def cells(self, project_id: str, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/cells", {"projectId": project_id, "limit": limit})

    def cell(self, cell_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/cells/{cell_id}")
        return result

    def create_cell(self, body: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/cells", json=dict(body))
        return result

    def update_cell(self, cell_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"/cells/{cell_id}", json=dict(changes))
        return result

    def delete_cell(self, cell_id: str) -> None:
        self._call("DELETE", f"/cells/{cell_id}")

    def cell_output(self, cell_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/cells/{cell_id}/output")
        return result

    def queried_tables(self, project_id: str, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages(f"/projects/{project_id}/queriedTables", {"limit": limit})

    def presigned_url(self, project_id: str, body: Mapping[str, Any]) -> str:
        result: dict[str, Any] = self._call(
            "POST", f"/embedding/createPresignedUrl/{project_id}", json=dict(body)
        )
        return str(result["url"])

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
        """`body` in the API's schedule shape (docs/scheduling.md), `notifications` included:
        RunProject's list, given to every run the schedule fires."""
        result: dict[str, Any] = self._call(
            "POST", f"/projects/{project_id}/schedules", json=dict(body)
        )
        return result

    def update_schedule(
        self, project_id: str, schedule_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change the fields in `changes` only; `notifications` replaces the whole list
        (`[]` clears it)."""
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
        max_poll_seconds: float = 2.5,
        timeout: float | None = None,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until the run reaches a terminal status; return its final status.

        The pause between polls starts at `poll_seconds` and grows by half each time up to
        `max_poll_seconds`: short runs are seen to end at once, and a long run's polls (24 a
        minute at 2.5 s) stay inside Hex's default 30 requests a minute per token.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = poll_seconds
        while True:
            current = self.status(project_id, run_id)
            if on_poll:
                on_poll(current)
            if current["status"] in TERMINAL:
                return current
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {current['status']} after {timeout}s")
            time.sleep(pause)
            pause = max(pause, min(pause * 1.5, max_poll_seconds))

    # -- users -----------------------------------------------------------------------------

    def users(
        self,
        *,
        sort_by: str = "NAME",
        descending: bool = False,
        include_deactivated: bool = False,
        group_id: str | None = None,
        limit: int = 500,
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "limit": limit,
            "sortBy": sort_by,
            "sortDirection": "DESC" if descending else "ASC",
            "includeDeactivated": str(include_deactivated).lower(),
        }
        if group_id:
            params["groupId"] = group_id
        return self._pages("/users", params)

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/users/me")
        return result

    def create_user(
        self, email: str, *, name: str | None = None, role: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"email": email}
        if name is not None:
            body["name"] = name
        if role is not None:
            body["role"] = role
        result: dict[str, Any] = self._call("POST", "/users", json=body)
        return result

    def update_user(self, user_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"/users/{user_id}", json=dict(changes))
        return result

    def deactivate_user(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/users/{user_id}/deactivate")["user"]
        return result

    def reactivate_user(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/users/{user_id}/reactivate")["user"]
        return result

    # -- API tokens ------------------------------------------------------------------------

    def create_token(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """`body` is `{type, description?, scopes?, expiresAt?, userId?}`; the answer holds
        the secret (`token`), shown this once."""
        result: dict[str, Any] = self._call("POST", "/tokens", json=dict(body))
        return result

    def tokens(self, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/tokens", {"limit": limit})

    def revoke_token(self, token_id: str) -> None:
        self._call("DELETE", f"/tokens/{token_id}")

    # -- groups ----------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated list, following `after` until it is null."""
        after: str | None = None
        while True:
            query = dict(params)
            if after:
                query["after"] = after
            page = self._call("GET", path, params=query)
            yield from page["values"]
            after = page["pagination"]["after"]
            if not after or not page["values"]:
                return

    def groups(self, *, sort_by: str = "NAME", limit: int = 500) -> Iterator[dict[str, Any]]:
        return self._pages("/groups", {"limit": limit, "sortBy": sort_by})

    def group(self, group_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/groups/{group_id}")
        return result

    def group_members(self, group_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/groups/{group_id}/members")["users"]
        return result

    def create_group(self, name: str, member_ids: Sequence[str] = ()) -> dict[str, Any]:
        body = {"name": name, "members": {"users": [{"id": i} for i in member_ids]}}
        result: dict[str, Any] = self._call("POST", "/groups", json=body)
        return result

    def edit_group(
        self,
        group_id: str,
        *,
        name: str | None = None,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        members: dict[str, Any] = {}
        if add:
            members["add"] = {"users": [{"id": i} for i in add]}
        if remove:
            members["remove"] = {"users": [{"id": i} for i in remove]}
        if members:
            body["members"] = members
        result: dict[str, Any] = self._call("PATCH", f"/groups/{group_id}", json=body)
        return result

    def delete_group(self, group_id: str) -> None:
        self._call("DELETE", f"/groups/{group_id}")

    # -- collections -----------------------------------------------------------------------

    def collections(self, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/collections", {"limit": limit, "sortBy": "NAME"})

    def collection(self, collection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/collections/{collection_id}")
        return result

    def create_collection(
        self,
        name: str,
        *,
        description: str | None = None,
        sharing: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`sharing` is Hex's `{users?: [{id, access}], groups?: […], workspace?: {members}}`."""
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        if sharing:
            body["sharing"] = dict(sharing)
        result: dict[str, Any] = self._call("POST", "/collections", json=body)
        return result

    def edit_collection(self, collection_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """`changes` is Hex's `{name?, description?, sharing?: {upsert: {…}}}`."""
        result: dict[str, Any] = self._call(
            "PATCH", f"/collections/{collection_id}", json=dict(changes)
        )
        return result

    def share_project_with_collections(
        self, project_id: str, access_by_collection: Mapping[str, str]
    ) -> dict[str, Any]:
        """Put a project in collections with an access level each (`NONE` takes it out);
        the answer is `{project, errors?}`."""
        entries = [{"collection": {"id": c}, "access": a} for c, a in access_by_collection.items()]
        result: dict[str, Any] = self._call(
            "PATCH",
            f"/projects/{project_id}/sharing/collections",
            json={"sharing": {"upsert": {"collections": entries}}},
        )
        return result

    def projects_in_collection(
        self, collection_id: str, *, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        return self._pages("/projects", {"limit": limit, "collectionId": collection_id})

    # -- data connections --------------------------------------------------------------------

    def connections(self, *, sort_by: str = "NAME", limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/data-connections", {"limit": limit, "sortBy": sort_by})

    def connection(self, connection_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/data-connections/{connection_id}")
        return result

    def create_connection(
        self, name: str, type: str, details: Mapping[str, Any], **options: Any
    ) -> dict[str, Any]:
        """`details` are the type's fields (secrets included); they are sent in Hex's
        `{type: {…}}` envelope. `options` are other body fields (`description`, `sharing`…)."""
        body = {"name": name, "type": type, "connectionDetails": {type: dict(details)}, **options}
        result: dict[str, Any] = self._call("POST", "/data-connections", json=body)
        return result

    def update_connection(self, connection_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """`changes` is Hex's EditDataConnection body; omitted secrets keep their values."""
        result: dict[str, Any] = self._call(
            "PATCH", f"/data-connections/{connection_id}", json=dict(changes)
        )
        return result

    def delete_connection(self, connection_id: str) -> None:
        self._call("DELETE", f"/data-connections/{connection_id}")

    # -- audit log -------------------------------------------------------------------------

    def audit(
        self, action: str | None = None, limit: int = 50, **filters: str
    ) -> list[dict[str, Any]]:
        """The newest `limit` audit events (admins only); `action` is a prefix (`user.`),
        `filters` the other query parameters (`actorUserId`, `targetType`, `since`…)."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while len(found) < limit:
            params: dict[str, Any] = {"limit": min(500, limit - len(found)), **filters}
            if action:
                params["action"] = action
            if after:
                params["after"] = after
            page = self._call("GET", "/audit", params=params)
            found += page["values"]
            after = page["pagination"]["after"]
            if not after or not page["values"]:
                break
        return found


def _retry_after_seconds(response: httpx.Response, attempt: int) -> float:
    """The server's `Retry-After` in seconds (Runyard and Hex send an integer); without a
    usable one, an exponential backoff of 1, 2, 4… seconds."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return float(2**attempt)
