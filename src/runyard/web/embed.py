"""Embedded apps: the pages a presigned URL opens, for anyone holding it, with no session.

The URL's signed grant is the only credential (services/embedding.py); these pages show the
published app read-only and nothing else of the workspace.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from runyard.web.access import ServicesDep
from runyard.web.pages import sandboxed_html
from runyard.web.templating import PAGE_CSP, page

router = APIRouter(include_in_schema=False)

# Embedding is the point: any site may frame these pages (the grant decides who sees them).
EMBED_HEADERS = {
    "Content-Security-Policy": PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
}
Token = Annotated[str, Query(max_length=20_000)]


@router.get("/embed/{projectId}")
def embedded_app(projectId: str, token: Token, services: ServicesDep) -> Response:
    shown = services.embedding.app(projectId, token)
    return page(
        "embed.html",
        title=shown.title,
        visitor=None,
        project_id=projectId,
        token=token,
        app=shown,
        theme=shown.grant.display_options.get("theme", "light"),
        now=services.runs.now(),
        headers=EMBED_HEADERS,
    )


@router.get("/embed/{projectId}/app")
def embedded_app_frame(projectId: str, token: Token, services: ServicesDep) -> Response:
    return sandboxed_html(services.embedding.app_html(projectId, token))
