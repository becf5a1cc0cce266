"""API tokens (a Runyard extension; Hex manages them in its UI): create, list, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from runyard.api import token_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import ANY_TOKEN, errors
from runyard.services.tokens import TokenRequest, TokenView

router = APIRouter(tags=["tokens"])


def token_out(view: TokenView) -> token_wire.TokenOut:
    row = view.row
    return token_wire.TokenOut(
        id=row.id,
        type=row.type,
        description=row.description,
        scopes=list(row.scopes),
        expiresAt=wire.format_ts(row.expires_at),
        createdAt=wire.format_ts(row.created_at) or "",
        lastUsedAt=wire.format_ts(row.last_used_at),
        revokedAt=wire.format_ts(row.revoked_at),
        user=token_wire.TokenUser(id=view.user.id, email=view.user.email),
    )


@router.post(
    "/tokens",
    status_code=201,
    response_model=token_wire.CreatedTokenOut,
    summary="Create an API token; its secret is in this answer only (Runyard extension)",
    responses=errors(404, 422),
)
def create_token(
    body: token_wire.CreateTokenBody, actor: ActorDep, services: ServicesDep
) -> token_wire.CreatedTokenOut:
    created = services.tokens.create(
        actor,
        TokenRequest(
            token_type=body.type,
            description=body.description,
            scopes=body.scopes,
            expires_at=body.expiresAt,
            expires_given="expiresAt" in body.model_fields_set,
            user_id=str(body.userId) if body.userId else None,
        ),
    )
    return token_wire.CreatedTokenOut(**token_out(created.view).model_dump(), token=created.secret)


@router.get(
    "/tokens",
    response_model=token_wire.TokenList,
    summary="List API tokens: your own, or every one for an admin (Runyard extension)",
    openapi_extra=ANY_TOKEN,
)
def list_tokens(
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    after: str | None = None,
    before: str | None = None,
) -> token_wire.TokenList:
    page = services.tokens.list(actor, after=after, before=before, limit=limit)
    return token_wire.TokenList(
        values=[token_out(view) for view in page.values],
        pagination=wire.Pagination(after=page.after, before=page.before),
    )


@router.delete(
    "/tokens/{tokenId}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API token; it is refused from the next request on (Runyard extension)",
)
def revoke_token(tokenId: uuid.UUID, actor: ActorDep, services: ServicesDep) -> Response:
    services.tokens.revoke(actor, str(tokenId))
    return Response(status_code=204)
