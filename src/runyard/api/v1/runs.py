"""Hex's run endpoints, served under both path families, plus run artifacts.

Legacy singular paths (`/project/{id}/run…`, used by the Airflow and Dagster integrations)
and current plural paths (`/projects/{id}/runs…`) call the same functions; only the
`runStatusUrl` differs, pointing back into the family the client used.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from runyard.api import error_wire, run_wire, wire
from runyard.api.deps import ActorDep, ServicesDep
from runyard.api.openapi import errors
from runyard.api.tracing import current_trace_id
from runyard.domain.run_page import run_page_path
from runyard.domain.run_status import RunStatus, RunTrigger
from runyard.services.runs import ARTIFACTS, TriggerRequest
from runyard.store.run_polls import PolledRun
from runyard.store.runs import RunEventRow, RunRow

router = APIRouter(tags=["runs"])

Family = Literal["singular", "plural"]


def status_url(base: str, family: Family, project_id: str, run_id: str) -> str:
    if family == "singular":
        return f"{base}/api/v1/project/{project_id}/run/{run_id}"
    return f"{base}/api/v1/projects/{project_id}/runs/{run_id}"


def run_page_url(base: str, project_id: str, run_id: str) -> str:
    return base + run_page_path(project_id, run_id)


def run_out(
    run: RunRow | PolledRun, base: str, now: datetime, events: list[RunEventRow] | None = None
) -> run_wire.ProjectRun:
    # startTime is when the run was accepted, so it is never null (prefect-hex requires
    # it); the kernel's own start is the extension field kernelStartTime.
    end = run.ended_at
    elapsed = int(((end or now) - run.created_at).total_seconds() * 1000)
    return run_wire.ProjectRun(
        projectId=run.project_id,
        projectVersion=run.project_version,
        runId=run.id,
        runUrl=run_page_url(base, run.project_id, run.id),
        status=run.status,
        runTrigger=run.trigger,
        startTime=wire.format_ts(run.created_at),
        endTime=wire.format_ts(end),
        elapsedTime=max(elapsed, 0),
        traceId=run.trace_id,
        stateEvents=None
        if events is None
        else [
            run_wire.StateEvent(type=e.type, value=e.value, timestamp=wire.format_ts(e.at) or "")
            for e in events
        ],
        inputParams=run.input_params,
        error=run_wire.RunError(**run.error) if run.error else None,
        scheduleId=run.schedule_id,
        scheduledFor=wire.format_ts(run.scheduled_for),
        latenessMs=run.lateness_ms,
        kernelStartTime=wire.format_ts(run.started_at),
        notifications=_notifications_out(run),
    )


def _notifications_out(
    run: RunRow | PolledRun,
) -> list[run_wire.ProjectRunNotificationRecipient] | None:
    recipients = run.options.get("notificationRecipients")
    if not recipients:
        return None
    return [run_wire.ProjectRunNotificationRecipient.model_validate(r) for r in recipients]


def _trigger(
    family: Family,
) -> Callable[..., run_wire.RunTriggered]:
    def trigger(
        projectId: uuid.UUID,
        actor: ActorDep,
        services: ServicesDep,
        response: Response,
        body: Annotated[run_wire.RunProjectBody | None, Body()] = None,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                max_length=255,
                description="Runyard extension: the same key for the same project within "
                "24 hours returns the same run instead of starting another.",
            ),
        ] = None,
    ) -> run_wire.RunTriggered:
        body = body or run_wire.RunProjectBody()
        request = TriggerRequest(
            input_params=body.inputParams,
            dry_run=body.dryRun,
            update_cache=body.updateCache,
            update_published_results=body.updatePublishedResults,
            use_cached_sql_results=body.useCachedSqlResults,
            view_id=body.viewId,
            notifications=[n.model_dump(exclude_none=True) for n in body.notifications or []],
            idempotency_key=idempotency_key,
            trigger=RunTrigger.API,
            trace_id=current_trace_id(),
        )
        triggered = services.runs.trigger(actor, str(projectId), request)
        run = triggered.run
        if triggered.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return run_wire.RunTriggered(
            projectId=run.project_id,
            runId=run.id,
            runUrl=run_page_url(services.public_url, run.project_id, run.id),
            runStatusUrl=status_url(services.public_url, family, run.project_id, run.id),
            traceId=run.trace_id,
            projectVersion=run.project_version,
            notifications=_notifications_out(run),
            dryRun=True if triggered.dry_run else None,
        )

    return trigger


async def get_run_status(
    projectId: uuid.UUID,
    runId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    expanded: Annotated[
        bool, Header(alias="enable-expanded-stats", description="Add stateEvents")
    ] = False,
) -> run_wire.ProjectRun:
    # The clients' most frequent request (they poll it): async, so that the read is the one
    # hop to the thread pool, instead of FastAPI running the whole endpoint there.
    detail = await run_in_threadpool(
        services.runs.get, actor, str(projectId), str(runId), events=expanded
    )
    return run_out(
        detail.run,
        services.public_url,
        services.runs.now(),
        detail.events if expanded else None,
    )


def list_runs(
    request: Request,
    projectId: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Annotated[int, Query(ge=0)] = 0,
    statusFilter: RunStatus | None = None,
    runTriggerFilter: Literal["API", "SCHEDULED", "APP_REFRESH", "ALL"] | None = None,
) -> run_wire.RunList:
    trigger = None if runTriggerFilter in (None, "ALL") else RunTrigger(runTriggerFilter)
    runs = services.runs.list(
        actor,
        str(projectId),
        status=statusFilter,
        trigger=trigger,
        limit=limit + 1,
        offset=offset,
    )
    more = len(runs) > limit
    runs = runs[:limit]
    now = services.runs.now()

    def page(new_offset: int) -> str:
        query: dict[str, Any] = {k: v for k, v in request.query_params.items() if k != "offset"}
        query["offset"] = new_offset
        return f"{services.public_url}{request.url.path}?{urlencode(query)}"

    return run_wire.RunList(
        runs=[run_out(run, services.public_url, now) for run in runs],
        nextPage=page(offset + limit) if more else None,
        previousPage=page(max(offset - limit, 0)) if offset > 0 else None,
        traceId=current_trace_id(),
    )


def get_published_run(
    projectId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> run_wire.ProjectRun:
    """Runyard extension: the run whose outputs the project's published app shows."""
    run = services.runs.published(actor, str(projectId))
    return run_out(run, services.public_url, services.runs.now())


def cancel_run(
    projectId: uuid.UUID, runId: uuid.UUID, actor: ActorDep, services: ServicesDep
) -> Response:
    services.runs.cancel(actor, str(projectId), str(runId))
    return Response(status_code=204)


def _artifact(name: str, media_type: str) -> Callable[..., Response]:
    def artifact(
        projectId: uuid.UUID, runId: uuid.UUID, actor: ActorDep, services: ServicesDep
    ) -> Response:
        stored_type, content = services.runs.artifact(actor, str(projectId), str(runId), name)
        # A notebook's HTML can carry any script its outputs produced: serve it sandboxed so
        # it cannot act with the reader's session on this origin.
        headers = {"Content-Security-Policy": "sandbox"} if name == "html" else None
        return Response(content=content, media_type=stored_type, headers=headers)

    artifact.__name__ = f"get_run_{name}"
    return artifact


# Each family's path of one run and of its project's runs.
_FAMILIES: tuple[tuple[Family, str, str], ...] = (
    ("plural", "/projects/{projectId}/runs/{runId}", "/projects/{projectId}/runs"),
    ("singular", "/project/{projectId}/run/{runId}", "/project/{projectId}/run"),
)


def status_paths() -> list[str]:
    """The paths (under /api/v1) of GET run status, in both families."""
    return [one for _, one, _ in _FAMILIES]


for _family, _one, _many in _FAMILIES:
    _suffix = "" if _family == "plural" else " (legacy path)"
    router.add_api_route(
        _many,
        _trigger(_family),
        methods=["POST"],
        status_code=201,
        response_model=run_wire.RunTriggered,
        summary="RunProject" + _suffix,
        responses=errors(422, model=error_wire.InvalidParamBody),
        operation_id=f"RunProject_{_family}",
    )
    router.add_api_route(
        _one,
        get_run_status,
        methods=["GET"],
        response_model=run_wire.ProjectRun,
        summary="GetRunStatus" + _suffix,
        operation_id=f"GetRunStatus_{_family}",
    )
    router.add_api_route(
        _one,
        cancel_run,
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        summary="CancelRun" + _suffix,
        responses=errors(422),
        operation_id=f"CancelRun_{_family}",
    )

router.add_api_route(
    "/projects/{projectId}/runs",
    list_runs,
    methods=["GET"],
    response_model=run_wire.RunList,
    summary="GetProjectRuns",
    operation_id="GetProjectRuns_plural",
)
router.add_api_route(
    "/project/{projectId}/runs",
    list_runs,
    methods=["GET"],
    response_model=run_wire.RunList,
    summary="GetProjectRuns (legacy path)",
    operation_id="GetProjectRuns_singular",
)

router.add_api_route(
    "/projects/{projectId}/publishedRun",
    get_published_run,
    methods=["GET"],
    response_model=run_wire.ProjectRun,
    summary="The run behind the published app (Runyard extension)",
    operation_id="GetPublishedRun",
)

for _name, _served_as in ARTIFACTS.items():
    _media = _served_as.partition(";")[0]
    router.add_api_route(
        f"/projects/{{projectId}}/runs/{{runId}}/{_name}",
        _artifact(_name, _media),
        methods=["GET"],
        response_class=Response,
        summary=f"Run {_name} (Runyard extension)",
        responses={200: {"content": {_media: {}}}},
        operation_id=f"GetRun_{_name}",
    )
