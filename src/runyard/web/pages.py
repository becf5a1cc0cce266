"""The web UI's pages: projects, one project with its run form and schedules, one run.

Every page calls the same service functions as the API (cancel here and DELETE in the API
are one code path); none runs a query of its own.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import RedirectResponse, Response

from runyard.domain.access import AccessLevel
from runyard.domain.permissions import Action, is_allowed, may_on_project
from runyard.domain.run_page import run_page_path
from runyard.domain.run_status import RunStatus, RunTrigger
from runyard.errors import (
    ArtifactNotReady,
    BadRequest,
    Conflict,
    InvalidInputParams,
    NoPublishedResults,
    Unprocessable,
)
from runyard.kernel.artifacts import HTML_PAGE
from runyard.services.container import Services
from runyard.services.runs import TriggerRequest
from runyard.store.projects import ProjectFilter
from runyard.store.runs import RunRow
from runyard.web import forms, schedule_form
from runyard.web.access import PostedDep, ServicesDep, Visitor, VisitorDep
from runyard.web.templating import STYLESHEET, page

router = APIRouter(include_in_schema=False)

PROJECTS_PER_PAGE = 25
RUNS_PER_PAGE = 20
_SUBMISSION = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as the form is rendered with


@router.get("/")
def home() -> Response:
    return RedirectResponse("/app/projects", status_code=303)


@router.get("/app")
def app_home() -> Response:
    return RedirectResponse("/app/projects", status_code=303)


@router.get("/app/static/style.css")
def stylesheet() -> Response:
    # Its URL carries a hash of its content (templating.STYLESHEET_URL), so it may be kept.
    return Response(
        STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/app/projects")
def projects_page(
    who: VisitorDep,
    services: ServicesDep,
    after: Annotated[str | None, Query()] = None,
    before: Annotated[str | None, Query()] = None,
) -> Response:
    found = services.projects.list(
        who.actor, ProjectFilter(), after=after, before=before, limit=PROJECTS_PER_PAGE
    )
    return page(
        "projects.html", title="Projects", visitor=who, projects=found.values, pagination=found
    )


@router.get("/app/projects/{projectId}")
def project_page(
    projectId: str,
    who: VisitorDep,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return _project_page(services, who, projectId, offset=offset)


@router.post("/app/projects/{projectId}/runs")
def trigger_run(projectId: str, posted: PostedDep, services: ServicesDep) -> Response:
    """Start a run with the form's inputs and go to its page; on bad inputs, show the form
    again with each field's problem (422) and start nothing."""
    who = posted.visitor
    project = services.projects.get(who.actor, projectId)
    view = posted.form.get("view")
    if isinstance(view, str) and view:
        return _run_saved_view(services, who, projectId, view, posted.form.get("submission"))
    run_form = forms.read_run_form(project.parameters, posted.form)
    if posted.form.get("action") == "save-view":
        return _save_view(services, who, projectId, run_form, posted.form.get("view_name"))
    submission = posted.form.get("submission")
    request = TriggerRequest(
        input_params=run_form.inputs,
        trigger=RunTrigger.APP_REFRESH,
        idempotency_key=_idempotency_key(submission),
        # A JSON field that did not parse will fail validation anyway: validate the rest
        # without starting anything, so the form can list every problem at once.
        dry_run=bool(run_form.json_errors),
    )
    try:
        triggered = services.runs.trigger(who.actor, projectId, request)
    except InvalidInputParams as error:
        return _invalid_inputs(services, who, projectId, run_form, error)
    if triggered.dry_run:
        return _invalid_inputs(services, who, projectId, run_form, InvalidInputParams())
    return RedirectResponse(run_page_path(projectId, triggered.run.id), status_code=303)


def _idempotency_key(submission: object) -> str | None:
    # Each rendering of a form has its own key: a double click or a resubmitted form finds
    # the run the first submission started instead of starting a second one.
    if isinstance(submission, str) and _SUBMISSION.fullmatch(submission):
        return f"web-form:{submission}"
    return None


def _run_saved_view(
    services: Services, who: Visitor, project_id: str, view_id: str, submission: object
) -> Response:
    """Start a run with a saved view's inputs (RunProject's viewId) and go to its page."""
    request = TriggerRequest(
        view_id=view_id,
        trigger=RunTrigger.APP_REFRESH,
        idempotency_key=_idempotency_key(submission),
    )
    try:
        triggered = services.runs.trigger(who.actor, project_id, request)
    except InvalidInputParams as error:
        problems = [f"This view's inputs no longer fit the published version: {error.issues}"]
        return _project_page(services, who, project_id, form_errors=problems, status=422)
    return RedirectResponse(run_page_path(project_id, triggered.run.id), status_code=303)


def _save_view(
    services: Services, who: Visitor, project_id: str, run_form: forms.RunForm, name: object
) -> Response:
    """Save the form's inputs as a view named `name`; on a problem, show the form again."""
    try:
        services.views.create(who.actor, project_id, str(name or ""), run_form.inputs)
    except InvalidInputParams as error:
        return _invalid_inputs(services, who, project_id, run_form, error)
    except (BadRequest, Conflict) as error:
        return _project_page(
            services,
            who,
            project_id,
            run_form=run_form,
            form_errors=error.issues or [error.message],
            status=422,
        )
    return RedirectResponse(f"/app/projects/{project_id}#saved-views", status_code=303)


@router.post("/app/projects/{projectId}/views/{viewId}/delete")
def delete_view(projectId: str, viewId: str, posted: PostedDep, services: ServicesDep) -> Response:
    services.views.delete(posted.visitor.actor, projectId, viewId)
    return RedirectResponse(f"/app/projects/{projectId}#saved-views", status_code=303)


@router.post("/app/projects/{projectId}/sharing")
def share_project(projectId: str, posted: PostedDep, services: ServicesDep) -> Response:
    """Share the project with someone (by email) and/or set the workspace's access; on a
    problem, show the page again with it (422)."""
    who = posted.visitor
    form = posted.form
    problems: list[str] = []
    email = str(form.get("email") or "").strip()
    access = _access_level(form.get("access"), "access", problems)
    workspace = _access_level(form.get("workspace"), "workspace", problems)
    if not problems:
        sharing = services.project_sharing
        refused = []
        if email and access is not None:
            refused += sharing.share_with_user_by_email(who.actor, projectId, email, access)
        current = sharing.sharing(who.actor, projectId).workspace
        if workspace is not None and workspace is not current:
            refused += sharing.share_with_workspace(
                who.actor, projectId, workspace=workspace, public_web=None
            )
        problems = [f"{', '.join(r.ids)}: {r.reason}" for r in refused]
    if problems:
        return _project_page(services, who, projectId, sharing_errors=problems, status=422)
    return RedirectResponse(f"/app/projects/{projectId}", status_code=303)


def _access_level(value: object, field: str, problems: list[str]) -> AccessLevel | None:
    if value in (None, ""):
        return None
    try:
        return AccessLevel(str(value))
    except ValueError:
        problems.append(f"{field}: not an access level")
        return None


@router.post("/app/projects/{projectId}/schedules")
def add_schedule(projectId: str, posted: PostedDep, services: ServicesDep) -> Response:
    """Add a schedule from the form and go back to the project; on a problem, show the
    form again with it by its field (422) and add nothing."""
    who = posted.visitor
    # Read for the edit it is about: whoever may not edit the project is refused here,
    # before their form is looked at.
    project = services.projects.get(who.actor, projectId, for_action=Action.EDIT_PROJECTS)
    form, spec = schedule_form.read(project.parameters, posted.form)
    if spec is None:
        return _project_page(services, who, projectId, schedule=form, status=422)
    try:
        created = services.schedules.create(who.actor, projectId, spec)
    except Unprocessable as error:
        declared = [p.name for p in project.parameters]
        form = form.with_issues(error.issues, error.message, declared)
        return _project_page(services, who, projectId, schedule=form, status=422)
    return RedirectResponse(_schedule_anchor(projectId, created.row.id), status_code=303)


@router.get("/app/projects/{projectId}/schedules/{scheduleId}")
def schedule_page(
    projectId: str, scheduleId: str, who: VisitorDep, services: ServicesDep
) -> Response:
    # Schedules are shown on their project's page; this address (where a signed-out
    # visitor's Pause returns to after signing in) points there.
    services.schedules.get(who.actor, projectId, scheduleId)
    return RedirectResponse(_schedule_anchor(projectId, scheduleId), status_code=303)


@router.post("/app/projects/{projectId}/schedules/{scheduleId}/delete")
def delete_schedule(
    projectId: str, scheduleId: str, posted: PostedDep, services: ServicesDep
) -> Response:
    services.schedules.delete(posted.visitor.actor, projectId, scheduleId)
    return RedirectResponse(f"/app/projects/{projectId}#schedules", status_code=303)


@router.post("/app/projects/{projectId}/schedules/{scheduleId}/{change}")
def pause_or_resume_schedule(
    projectId: str,
    scheduleId: str,
    change: Literal["pause", "resume"],
    posted: PostedDep,
    services: ServicesDep,
) -> Response:
    """Pause or resume, as PATCH `enabled` does in the API: resuming fires from now on."""
    enabled = change == "resume"
    services.schedules.update(posted.visitor.actor, projectId, scheduleId, {"enabled": enabled})
    return RedirectResponse(_schedule_anchor(projectId, scheduleId), status_code=303)


@router.get("/app/projects/{projectId}/runs/{runId}")
def run_page(projectId: str, runId: str, who: VisitorDep, services: ServicesDep) -> Response:
    detail = services.runs.get(who.actor, projectId, runId)
    project = services.projects.get(who.actor, projectId)
    run = detail.run
    status = RunStatus(run.status)
    try:
        _, content = services.runs.artifact(who.actor, projectId, runId, "log")
        log: str | None = content.decode("utf-8", errors="replace")
    except ArtifactNotReady:
        log = None
    return page(
        "run.html",
        title=f"Run of {project.row.title}",
        visitor=who,
        project=project.row,
        run=run,
        run_status=status,
        error=run.error or None,
        now=services.runs.now(),
        log=log,
        # The worker stores the log, the notebook and its HTML together, at the end.
        has_html=log is not None,
        refresh=not status.is_terminal,
        can_cancel=not status.is_terminal and is_allowed(who.actor, Action.RUN_PROJECTS),
        run_path=run_page_path(projectId, runId),
    )


@router.get("/app/projects/{projectId}/app")
def published_app(projectId: str, who: VisitorDep, services: ServicesDep) -> Response:
    """The published run's outputs-only page, for the project page's iframe: no code, so
    the same for every reader, app viewers included. Sandboxed as the run's HTML is."""
    _, content = services.runs.published_app(who.actor, projectId)
    return sandboxed_html(content)


def sandboxed_html(content: bytes) -> Response:
    return Response(
        content,
        media_type=HTML_PAGE,
        headers={
            "Content-Security-Policy": "sandbox; frame-ancestors 'self'",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/app/projects/{projectId}/runs/{runId}/cancel")
def cancel_run(projectId: str, runId: str, posted: PostedDep, services: ServicesDep) -> Response:
    services.runs.cancel(posted.visitor.actor, projectId, runId)
    return RedirectResponse(run_page_path(projectId, runId), status_code=303)


@router.get("/app/projects/{projectId}/runs/{runId}/html")
def run_html(projectId: str, runId: str, who: VisitorDep, services: ServicesDep) -> Response:
    """The executed notebook as HTML, for the run page's iframe.

    Its outputs may carry any script a cell produced. `sandbox` gives the document an opaque
    origin with no script, so it cannot act with the reader's session; the API serves it
    the same way, but needs a bearer token, which an iframe cannot send.
    """
    media_type, content = services.runs.artifact(who.actor, projectId, runId, "html")
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Security-Policy": "sandbox; frame-ancestors 'self'",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- helpers ---------------------------------------------------------------------------


def _schedule_anchor(project_id: str, schedule_id: str) -> str:
    return f"/app/projects/{project_id}#schedule-{schedule_id}"


def _project_page(
    services: Services,
    who: Visitor,
    project_id: str,
    *,
    offset: int = 0,
    run_form: forms.RunForm | None = None,
    field_errors: dict[str, str] | None = None,
    form_errors: list[str] | None = None,
    sharing_errors: list[str] | None = None,
    schedule: schedule_form.ScheduleForm | None = None,
    status: int = 200,
) -> Response:
    project = services.projects.get(who.actor, project_id)
    runs = services.runs.list(
        who.actor, project_id, status=None, trigger=None, limit=RUNS_PER_PAGE + 1, offset=offset
    )
    access = services.projects.check(who.actor, project_id, Action.READ_PROJECTS)
    try:
        published: RunRow | None = services.runs.published(who.actor, project_id)
    except NoPublishedResults:
        published = None
    schedule = schedule or schedule_form.blank()
    context: dict[str, Any] = {
        "title": project.row.title,
        "visitor": who,
        "project": project.row,
        "view": project,
        "published": published,
        "views": services.views.list(who.actor, project_id),
        "can_edit_views": may_on_project(who.actor, Action.EDIT_PROJECTS, access),
        "fields": forms.fields(
            project.parameters, run_form.texts if run_form else None, field_errors
        ),
        "form_errors": form_errors or [],
        "can_run": is_allowed(who.actor, Action.RUN_PROJECTS),
        "submission": uuid.uuid4().hex,
        "runs": runs[:RUNS_PER_PAGE],
        "older": offset + RUNS_PER_PAGE if len(runs) > RUNS_PER_PAGE else None,
        "newer": max(offset - RUNS_PER_PAGE, 0) if offset > 0 else None,
        "now": services.runs.now(),
        "access": access.value,
        "sharing_errors": sharing_errors or [],
        "access_levels": [level.value for level in AccessLevel],
        "sharing": services.project_sharing.sharing(who.actor, project_id),
        "schedules": services.schedules.list(who.actor, project_id),
        "last_runs": services.schedules.last_runs(who.actor, project_id),
        # Only whether to offer the forms: the service decides again on every POST.
        "can_edit_schedules": may_on_project(who.actor, Action.EDIT_PROJECTS, access),
        "schedule": schedule,
        "schedule_fields": forms.fields(
            project.parameters, schedule.param_texts, schedule.param_errors
        ),
        "cadences": schedule_form.CADENCES,
        "days_of_week": schedule_form.DAYS_OF_WEEK,
        "catch_up_policies": schedule_form.CATCH_UP,
        "overlap_policies": schedule_form.OVERLAP,
    }
    return page("project.html", status=status, **context)


def _invalid_inputs(
    services: Services,
    who: Visitor,
    project_id: str,
    run_form: forms.RunForm,
    error: InvalidInputParams,
) -> Response:
    field_errors = {item.param_name: item.reason for item in error.invalid}
    # A JSON syntax error explains a bad list or dict better than "expected a list".
    field_errors.update(run_form.json_errors)
    form_errors = [
        f"{name}: the project declares no such parameter (it may have been republished; "
        "reload the page)"
        for name in error.not_found
    ]
    return _project_page(
        services,
        who,
        project_id,
        run_form=run_form,
        field_errors=field_errors,
        form_errors=form_errors,
        status=422,
    )
