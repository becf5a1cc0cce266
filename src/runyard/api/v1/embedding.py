"""Hex's embedding endpoint: a short-lived signed URL that opens the published app."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from runyard.api import embedding_wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.services.embedding import EmbedRequest

router = APIRouter(tags=["embedding"])


@router.post(
    "/embedding/createPresignedUrl/{projectId}",
    response_model=embedding_wire.PresignedUrl,
    summary="CreatePresignedUrl",
)
def create_presigned_url(
    projectId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    body: embedding_wire.CreatePresignedUrlBody,
) -> embedding_wire.PresignedUrl:
    """200 `{url}`: the published app, read-only, for anyone holding the URL until
    `expiresIn` milliseconds from now (default 15 000, at most 300 000)."""
    display = body.displayOptions.model_dump(exclude_none=True) if body.displayOptions else {}
    request = EmbedRequest(
        input_parameters=body.inputParameters or {},
        expires_in_ms=max(int(body.expiresIn), 1),
        display_options=display,
        scope=tuple(body.scope or ()),
        test_mode=body.testMode,
    )
    return embedding_wire.PresignedUrl(
        url=services.embedding.presigned_url(actor, str(projectId), request)
    )
