"""Who is browsing: the session cookie turned into an actor, and the CSRF check on POSTs.

Pages never look at an `Authorization` header: a browser signs in once and then carries
only the session cookie, which is SameSite=Strict (the first line against CSRF); every POST
also carries the session's CSRF token (the second).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from runyard.domain.permissions import Actor
from runyard.errors import Forbidden, Unauthenticated
from runyard.services.container import Services
from runyard.web.sessions import SESSION_COOKIE, SessionKeys, keys_for


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services_of)]


def session_keys(request: Request) -> SessionKeys:
    return keys_for(services_of(request).secret_key)


def workspace_name(services: Services) -> str:
    """What the header calls this workspace: the host it is served at (there is no
    workspace-name setting yet)."""
    return urlsplit(services.public_url).netloc or "Runyard"


@dataclass(frozen=True)
class Visitor:
    actor: Actor
    csrf: str  # the token every form of this session must send back
    workspace: str


def visitor(request: Request) -> Visitor:
    """The signed-in visitor; raises Unauthenticated (a redirect to /login) otherwise.

    The token is checked against the store on every request, so a revoked or expired
    token, or a deactivated user, is signed out at the next click.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("Sign in to continue")
    keys = session_keys(request)
    token = keys.unseal(cookie)
    if token is None:
        raise Unauthenticated("Your session has expired; sign in again")
    services = services_of(request)
    actor = services.identity.authenticate(f"Bearer {token}")
    return Visitor(actor=actor, csrf=keys.csrf_token(cookie), workspace=workspace_name(services))


VisitorDep = Annotated[Visitor, Depends(visitor)]


async def form_data(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(form_data)]


@dataclass(frozen=True)
class Posted:
    """A POSTed form from a signed-in visitor whose CSRF token matched."""

    visitor: Visitor
    form: FormData


def posted(request: Request, who: VisitorDep, form: FormDep) -> Posted:
    # Authentication comes first (a signed-out POST goes to /login), then the CSRF token.
    if not session_keys(request).csrf_matches(
        request.cookies.get(SESSION_COOKIE), form.get("csrf")
    ):
        raise Forbidden("This form has expired or did not come from Runyard; reload the page")
    return Posted(visitor=who, form=form)


PostedDep = Annotated[Posted, Depends(posted)]
