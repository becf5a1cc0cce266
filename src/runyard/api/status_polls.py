"""GET run status, the request clients make most, answered without FastAPI's per-request work.

Every client polls a run's status until the run ends: the Airflow provider, the Dagster
integration and scripts alike, every few seconds, many at once. Through its FastAPI route a
poll costs more in solving the route's dependencies and parameters, and in a hop to a worker
thread, than in reading the run. This middleware answers the ordinary poll itself, with the
same service call (`RunService.poll`) and the same wire model as the route, on the event loop
when the store allows it (SQLite; see `Database.quick_reads_inline`).

Whatever is not an ordinary poll it hands on, untouched, to the FastAPI route, which stays the
one definition of the endpoint: its parameters, its place in the OpenAPI document, and every
error it answers. So an id that is not a UUID, the `enable-expanded-stats` header, a NUL
character, a route whose requests are counted against a rate limit, or a poll that ends in an
error (a refused token, an unknown run, no access) is served exactly as before. A token is
verified as the route verifies it (`api/verifications.py`).
"""

from __future__ import annotations

import uuid
from typing import Any

from anyio import CapacityLimiter, to_thread
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from runyard.api.operations import ROUTE_TEMPLATE
from runyard.api.v1.runs import get_run_status, run_out, status_paths
from runyard.api.verifications import Verifications
from runyard.errors import RunyardError
from runyard.services.container import Services

API_PREFIX = "/api/v1"
_EXPANDED_STATS = b"enable-expanded-stats"
_NUL_IN_QUERY = (b"\x00", b"%00")


class StatusPolls:
    """Pure ASGI middleware, innermost of the app's own, so that the trace id, the metrics
    and the quota headers apply to the answers it makes as to every other."""

    def __init__(
        self, app: ASGIApp, services: Services, verifications: Verifications, *, counted: bool
    ) -> None:
        self.app = app
        self._services = services
        self._verifications = verifications
        # Requests counted against a rate limit go through the route's limit dependency.
        self._enabled = not counted
        # Off the event loop, no more polls at once than the store's pool keeps connections.
        self._off_loop = CapacityLimiter(services.runs.quick_read_concurrency)
        # Matched as the router would; the metrics count an answer under its route's template.
        self._routes = [
            Route(API_PREFIX + path, get_run_status, methods=["GET"]) for path in status_paths()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._enabled or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        answer = await self._answer(scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        await answer(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response | None:
        """The answer to an ordinary poll; None for anything the route must serve."""
        matched = self._match(scope)
        if matched is None:
            return None
        route, path_params = matched
        authorization = _ordinary_headers(scope)
        if authorization is None or _nul_in_query(scope):
            return None
        try:
            project_id = str(uuid.UUID(path_params["projectId"]))
            run_id = str(uuid.UUID(path_params["runId"]))
        except ValueError:
            return None
        services = self._services
        try:
            actor = await self._verifications.actor(authorization)
            if services.runs.polls_inline:
                run = services.runs.poll(actor, project_id, run_id)
            else:
                run = await to_thread.run_sync(
                    services.runs.poll, actor, project_id, run_id, limiter=self._off_loop
                )
        except RunyardError:
            return None  # the route answers the error, in the one shape it always has
        body = run_out(run, services.public_url, services.runs.now())
        scope["route"] = route
        scope["path_params"] = path_params
        scope[ROUTE_TEMPLATE] = route.path
        return Response(body.model_dump_json(), media_type="application/json")

    def _match(self, scope: Scope) -> tuple[Route, dict[str, Any]] | None:
        if not scope["path"].startswith(API_PREFIX):
            return None
        for route in self._routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route, child["path_params"]
        return None


def _ordinary_headers(scope: Scope) -> str | None:
    """The Authorization header of a poll whose headers are ordinary: no NUL character, and
    no `enable-expanded-stats` (whose events the route reads). None otherwise."""
    authorization: str | None = None
    for name, value in scope["headers"]:
        if name == _EXPANDED_STATS or b"\x00" in name or b"\x00" in value:
            return None
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
    return authorization


def _nul_in_query(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return any(marker in query for marker in _NUL_IN_QUERY)
