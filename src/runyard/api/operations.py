"""`/healthz`, `/readyz` and `/metrics`: for load balancers, supervisors and Prometheus.

They live outside `/api/v1`, need no API token and are not rate limited. `/metrics` asks for
`RUNYARD_METRICS_TOKEN` as a bearer token when that is set.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from starlette.responses import Response
from starlette.routing import NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runyard import metrics
from runyard.errors import Unauthenticated
from runyard.services.operations import HealthService

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Operations:
    """What the three endpoints need, kept in `app.state.operations`."""

    health: HealthService
    # Collectors of this server (the store's figures, its kernel pool), beside the
    # process-wide metrics of `runyard.metrics`; None when metrics are off.
    registry: CollectorRegistry | None
    metrics_token: str | None


def _operations(request: Request) -> Operations:
    found: Operations = request.app.state.operations
    return found


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving requests; nothing else is checked."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 if this process can do its work (store answers and is migrated, broker reachable
    when used, scheduler loop ticking), else 503; each check's verdict in `checks`."""
    readiness = _operations(request).health.readiness()
    return JSONResponse(
        {"status": "ready" if readiness.ready else "not ready", "checks": readiness.checks},
        status_code=200 if readiness.ready else 503,
    )


@router.get("/metrics")
def metrics_endpoint(request: Request) -> Response:
    operations = _operations(request)
    if operations.registry is None:
        return Response(status_code=404)
    if operations.metrics_token is not None:
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {operations.metrics_token}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise Unauthenticated("/metrics needs 'Authorization: Bearer <RUNYARD_METRICS_TOKEN>'")
    return Response(metrics.exposition(operations.registry), media_type=metrics.CONTENT_TYPE)


class HttpMetrics:
    """Counts requests and times them by route template (`/api/v1/projects/{projectId}`),
    never by raw path, so the number of series stays bounded. Pure ASGI, like the trace-id
    middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            # The router stores the matched route in the scope it was given; no match (a 404
            # for an unknown path) is one series, not one per path tried.
            route = _template(scope)
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


# Where a middleware that answers a request itself (api/status_polls.py) names its route's
# whole path template, so that it is counted as the router's answer would be.
ROUTE_TEMPLATE = "runyard.route_template"


def _template(scope: Scope) -> str:
    """The matched route's path template with the prefix it was included under.

    FastAPI stores the route as its router declared it (`/projects/{projectId}`), without the
    `/api/v1` prefix of `include_router`; the prefix is what the request's path has before
    the part the route matched.
    """
    named: str | None = scope.get(ROUTE_TEMPLATE)
    if named is not None:
        return named
    route = scope.get("route")
    template = getattr(route, "path", None)
    if route is None or not template:
        return "unmatched"
    try:
        matched = route.url_path_for(route.name, **scope.get("path_params", {}))
    except NoMatchFound:
        return str(template)
    path: str = scope["path"]
    prefix = path[: -len(matched)] if path.endswith(matched) else ""
    return prefix + str(template)
