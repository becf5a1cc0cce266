"""Dependencies shared by the routers: services, the acting user, and Hex's query quirks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from runyard.api.uploads import body_too_large
from runyard.api.verifications import Verifications
from runyard.domain.permissions import Actor
from runyard.errors import BadRequest
from runyard.services.container import Services


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain function dependency in the thread pool, a hop for one
    # attribute.
    return services_of(request)


async def json_body_within_limit(request: Request) -> None:
    """Refuse (413) a JSON body larger than the largest notebook the server accepts, the one
    limit on request bodies (`RUNYARD_MAX_NOTEBOOK_BYTES`), before the endpoint acts on it.

    FastAPI has read and parsed a route's JSON body before any dependency runs, so this keeps
    oversized input from being validated, stored or acted on; it does not keep it from being
    buffered. The notebook routes take no JSON body: they stream theirs against the same limit
    (`api/uploads.py`), so nothing is read here for them.
    """
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None:
        return
    limit = services_of(request).projects.max_notebook_bytes
    size = len(await request.body())  # the copy FastAPI read, not a second read
    if size > limit:
        raise body_too_large("request body", size, limit)


def no_nul_in_query_or_headers(request: Request) -> None:
    """Refuse (400) a query value or header holding the NUL character.

    No header may hold one (RFC 9110), and PostgreSQL cannot compare text with one: a filter
    such as `creatorEmail` would fail there as a 500 and merely match nothing on SQLite.
    (Bodies are checked by their wire models, `wire.RequestWire`.)
    """
    found = [
        f"{name}: must not contain the NUL character (\\u0000)"
        for name, value in [*request.query_params.multi_items(), *request.headers.items()]
        if "\x00" in name or "\x00" in value
    ]
    if found:
        raise BadRequest("Invalid input data", issues=found)


async def actor(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    """The authenticated caller; a missing or bad token raises Unauthenticated (401).

    Every API route depends on it, so the checks of the whole request (body size, NUL
    characters) are made here, before anything else. They are called, not declared as
    sub-dependencies: FastAPI's solving of each dependency costs more than the checks
    themselves, on every request. A token verified moments ago is answered from memory on
    the event loop (`IdentityService.remembered`); otherwise the store is read in the
    thread pool, once for all concurrent requests with the token (`api/verifications.py`).
    """
    await json_body_within_limit(request)
    no_nul_in_query_or_headers(request)
    return await verifications_of(request).actor(authorization)


def verifications_of(request: Request) -> Verifications:
    found: Verifications = request.app.state.verifications
    return found


ServicesDep = Annotated[Services, Depends(services)]
ActorDep = Annotated[Actor, Depends(actor)]


def merged_list(*values: list[str] | None) -> list[str]:
    """Hex's clients send arrays as `x=a&x=b`, `x[]=a&x[]=b` or `x=a,b`: accept all three."""
    return [
        part.strip()
        for group in values
        for value in group or []
        for part in value.split(",")
        if part.strip()
    ]
