"""Embedded apps: the pages a presigned URL opens, for anyone holding it, with no session.

The URL's signed grant is the only credential (services/embedding.py); these pages show the
app read-only and nothing else of the workspace: the published results, or the app run with
the URL's inputs. A page whose run is still going reloads itself (a meta refresh: the pages
run no script) with the run's own signed token, so it keeps working after the URL expired.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from runyard.services.embedding import EmbeddedApp
from runyard.web.access import ServicesDep
from runyard.web.pages import sandboxed_html
from runyard.web.templating import PAGE_CSP, page

router = APIRouter(include_in_schema=False)

# Embedding is the point: any site may frame these pages (the grant decides who sees them).
EMBED_HEADERS = {
    "Content-Security-Policy": PAGE_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")
}
Token = Annotated[str, Query(max_length=20_000)]
# Seconds between reloads of a page whose run is PENDING or RUNNING.
REFRESH_SECONDS = 2


@router.get("/embed/{projectId}")
def embedded_app(projectId: str, token: Token, services: ServicesDep) -> Response:
    shown = services.embedding.app(projectId, token)
    return _page(projectId, shown, services, frame=f"/embed/{projectId}/app?token={token}")


@router.get("/embed/{projectId}/app")
def embedded_app_frame(projectId: str, token: Token, services: ServicesDep) -> Response:
    return sandboxed_html(services.embedding.app_html(projectId, token))


@router.get("/embed/{projectId}/runs/{runId}")
def embedded_run(projectId: str, runId: str, token: Token, services: ServicesDep) -> Response:
    shown = services.embedding.run_app(projectId, runId, token)
    return _page(projectId, shown, services, frame="")


@router.get("/embed/{projectId}/runs/{runId}/app")
def embedded_run_frame(projectId: str, runId: str, token: Token, services: ServicesDep) -> Response:
    return sandboxed_html(services.embedding.run_app_html(projectId, runId, token))


def _page(project_id: str, shown: EmbeddedApp, services: ServicesDep, frame: str) -> Response:
    """The embedded page; `frame` is the published results' frame (a run of the URL's
    inputs is framed, and followed, through its own token)."""
    run_path = ""
    if shown.run is not None and shown.view is not None:
        run_path = f"/embed/{project_id}/runs/{shown.run.id}"
        frame = f"{run_path}/app?token={shown.view}"
    return page(
        "embed.html",
        title=shown.title,
        visitor=None,
        app=shown,
        frame=frame,
        refresh_to=f"{run_path}?token={shown.view}" if shown.active and run_path else None,
        refresh_seconds=REFRESH_SECONDS,
        theme=shown.display_options.get("theme", "light"),
        now=services.runs.now(),
        headers=EMBED_HEADERS,
    )
