"""The read behind GET run status: a run and its project's access facts in one statement.

Clients poll a run's status every few seconds for as long as it runs, and many clients poll
at once, so this is the store's most frequent read by far. It reads exactly what the answer
and the access check need, as plain values: one Core select joining the project to the run,
no ORM instance to build and no transaction of its own (one statement is one snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from runyard.store.projects import ProjectAccessFacts, ProjectRow
from runyard.store.runs import RunRow


@dataclass(frozen=True, slots=True)
class PolledRun:
    """The columns of a run that its status answer shows, named as on `RunRow`."""

    id: str
    project_id: str
    project_version: int
    status: str
    trigger: str
    input_params: dict[str, Any]
    options: dict[str, Any]
    schedule_id: str | None
    scheduled_for: datetime | None
    trace_id: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    error: dict[str, Any] | None
    lateness_ms: int | None


@dataclass(frozen=True, slots=True)
class RunPoll:
    """A project's access facts and its run, None when the project has no such run."""

    project: ProjectAccessFacts
    run: PolledRun | None


_PROJECTS = ProjectRow.__table__
_RUNS = RunRow.__table__
_RUN_FIELDS = tuple(field.name for field in fields(PolledRun))

# The project is the outer side: a project without the run (or with another project's run)
# still answers its access facts, so the caller can tell "no project" from "no run" and check
# access before saying which run is missing, as the other run reads do.
_POLL = (
    select(
        _PROJECTS.c.id.label("project__id"),
        _PROJECTS.c.owner_id.label("project__owner_id"),
        _PROJECTS.c.workspace_access.label("project__workspace_access"),
        *(_RUNS.c[name] for name in _RUN_FIELDS),
    )
    .select_from(
        _PROJECTS.outerjoin(
            _RUNS,
            and_(_RUNS.c.id == bindparam("run_id"), _RUNS.c.project_id == _PROJECTS.c.id),
        )
    )
    .where(_PROJECTS.c.id == bindparam("project_id"))
)


def poll_run(session: Session, project_id: str, run_id: str) -> RunPoll | None:
    """The project's access facts and the run, or None if there is no such project."""
    row = session.connection().execute(_POLL, {"project_id": project_id, "run_id": run_id})
    found = row.first()
    if found is None:
        return None
    values = found._mapping
    project = ProjectAccessFacts(
        id=values["project__id"],
        owner_id=values["project__owner_id"],
        workspace_access=values["project__workspace_access"],
    )
    if values["id"] is None:
        return RunPoll(project=project, run=None)
    return RunPoll(project=project, run=PolledRun(*(values[name] for name in _RUN_FIELDS)))
