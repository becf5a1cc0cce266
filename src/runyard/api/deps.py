"""Dependencies shared by the routers: services, the acting user, and Hex's query quirks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from runyard.domain.permissions import Actor
from runyard.services.container import Services


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def actor(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    """The authenticated caller; a missing or bad token raises Unauthenticated (401)."""
    return services(request).identity.authenticate(authorization)


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
