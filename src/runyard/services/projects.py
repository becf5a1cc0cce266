"""Projects: create, read, list, replace the draft notebook, publish numbered versions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from runyard.domain import notebook as notebooks
from runyard.domain import parameters as params
from runyard.domain.access import AccessLevel
from runyard.domain.permissions import Action, Actor, is_allowed
from runyard.errors import BadRequest, Forbidden, InvalidNotebook, NotFound, ProjectNotPublished
from runyard.services import keyset
from runyard.services.project_access import checked_access, checked_project, viewer_of
from runyard.store import cells as cell_store
from runyard.store import identity as identity_store
from runyard.store import project_listing as listing
from runyard.store import projects as store
from runyard.store.db import Database
from runyard.store.projects import ProjectFilter, ProjectRow, ProjectVersionRow


@dataclass(frozen=True)
class ProjectView:
    row: ProjectRow
    creator_email: str
    owner_email: str
    parameters: list[params.ParameterSpec] = field(default_factory=list)


@dataclass(frozen=True)
class ProjectPage:
    values: list[ProjectView]
    after: str | None
    before: str | None


@dataclass(frozen=True)
class PublishedVersion:
    project_id: str
    version: int
    published_at: datetime
    parameters: list[params.ParameterSpec]


def require(actor: Actor, action: Action) -> None:
    if not is_allowed(actor, action):
        raise Forbidden(f"Insufficient access: this token may not {action.value}")


class ProjectService:
    def __init__(
        self, db: Database, clock: Callable[[], datetime], max_notebook_bytes: int
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_bytes = max_notebook_bytes

    @property
    def max_notebook_bytes(self) -> int:
        return self._max_bytes

    # -- reads ---------------------------------------------------------------------------

    def get(
        self, actor: Actor, project_id: str, for_action: Action = Action.READ_PROJECTS
    ) -> ProjectView:
        """The project. `for_action` is what justifies the read: a change's answer shows the
        project to whoever may make the change, a workspace token without `projects:read`
        included."""
        require(actor, for_action)
        with self._db.read() as session:
            row, _ = checked_project(session, actor, project_id, for_action)
            return self._view(session, row)

    def check(self, actor: Actor, project_id: str, action: Action) -> AccessLevel:
        """The actor's access to the project; raises unless they may take `action` on it
        (NotFound if the project is hidden from them, Forbidden if their access is short)."""
        with self._db.read() as session:
            return self.check_in(session, actor, project_id, action)

    @staticmethod
    def check_in(session: Session, actor: Actor, project_id: str, action: Action) -> AccessLevel:
        """`check` within the caller's read session, so that a read which goes on past the
        check (a run's status) takes one session, one connection and one snapshot."""
        require(actor, action)
        return checked_access(session, actor, project_id, action)

    def list(
        self,
        actor: Actor,
        flt: ProjectFilter,
        *,
        sort_by: str = "CREATED_AT",
        descending: bool = True,
        after: str | None = None,
        before: str | None = None,
        limit: int = 25,
    ) -> ProjectPage:
        require(actor, Action.READ_PROJECTS)
        flt = replace(flt, viewer=viewer_of(actor))
        column = listing.SORT_COLUMNS[sort_by].key

        def key_of(row: ProjectRow) -> keyset.Key:
            moment: datetime | None = getattr(row, column)
            return (moment.isoformat() if moment else "", row.id)

        with self._db.read() as session:

            def fetch(start: keyset.Key | None, desc: bool, count: int) -> list[ProjectRow]:
                after_key = None if start is None else (_moment(start[0]), start[1])
                return listing.list_projects(
                    session, flt, sort_by=sort_by, descending=desc, after=after_key, limit=count
                )

            found = keyset.page(
                fetch, key_of, descending=descending, after=after, before=before, limit=limit
            )
            views = [self._view(session, row) for row in found.values]
        return ProjectPage(values=views, after=found.after, before=found.before)

    def notebook(self, actor: Actor, project_id: str, version: int | None) -> dict[str, Any]:
        """The draft notebook, or the notebook of published `version`."""
        require(actor, Action.VIEW_PROJECT_SOURCE)
        with self._db.read() as session:
            row, _ = checked_project(session, actor, project_id, Action.VIEW_PROJECT_SOURCE)
            if version is None:
                if row.draft_notebook is None:
                    raise NotFound("notebook of project", project_id)
                return row.draft_notebook
            found = store.get_version(session, project_id, version)
            if found is None:
                raise NotFound("version", f"{version} of project {project_id}")
            return found.notebook

    def published_version(self, project_id: str) -> ProjectVersionRow:
        with self._db.read() as session:
            row = store.get_project(session, project_id)
            if row is None:
                raise NotFound("project", project_id)
            if row.latest_version is None:
                raise ProjectNotPublished(project_id)
            version = store.get_version(session, project_id, row.latest_version)
            assert version is not None, "latest_version points at a missing version"
            return version

    # -- writes --------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        title: str,
        description: str | None = None,
        notebook: Mapping[str, Any] | None = None,
    ) -> ProjectView:
        require(actor, Action.EDIT_PROJECTS)
        title = title.strip()
        if not title:
            raise BadRequest("title: must not be empty", issues=["title: must not be empty"])
        now = self._clock()
        with self._db.write() as session:
            row = ProjectRow(
                id=str(uuid.uuid4()),
                title=title,
                description=description,
                type="PROJECT",
                creator_id=actor.user_id,
                owner_id=actor.user_id,
                draft_notebook=dict(notebook) if notebook is not None else None,
                created_at=now,
                last_edited_at=now,
            )
            session.add(row)
            session.flush()
            cell_store.index_draft(session, row.id, row.draft_notebook)
            return self._view(session, row)

    def replace_notebook(self, actor: Actor, project_id: str, raw: bytes | str) -> ProjectView:
        """Parse and check the notebook, then make it the project's draft."""
        require(actor, Action.EDIT_PROJECTS)
        nb = self.parse(raw)
        with self._db.write() as session:
            row, _ = checked_project(session, actor, project_id, Action.EDIT_PROJECTS)
            row.draft_notebook = nb
            row.last_edited_at = self._clock()
            session.flush()
            cell_store.index_draft(session, row.id, nb)
            return self._view(session, row)

    def publish(self, actor: Actor, project_id: str) -> PublishedVersion:
        """Snapshot the draft as the next version N; runs execute versions, never the draft."""
        require(actor, Action.EDIT_PROJECTS)
        now = self._clock()
        with self._db.write() as session:
            row, _ = checked_project(session, actor, project_id, Action.EDIT_PROJECTS)
            if row.draft_notebook is None:
                raise InvalidNotebook(
                    "The project has no notebook to publish; upload one with "
                    "PUT /api/v1/projects/{projectId}/notebook first"
                )
            specs = _declared_parameters(row.draft_notebook)
            version = (row.latest_version or 0) + 1
            session.add(
                ProjectVersionRow(
                    project_id=row.id,
                    version=version,
                    notebook=row.draft_notebook,
                    parameters=[spec.to_dict() for spec in specs],
                    published_at=now,
                    published_by=actor.user_id,
                )
            )
            row.latest_version = version
            row.last_published_at = now
        return PublishedVersion(project_id, version, now, specs)

    def import_notebook(
        self,
        actor: Actor,
        raw: bytes | str,
        *,
        title: str | None,
        description: str | None,
        publish: bool,
        fallback_title: str | None = None,
    ) -> tuple[ProjectView, PublishedVersion | None]:
        require(actor, Action.EDIT_PROJECTS)
        nb = self.parse(raw)
        metadata = nb.get("metadata", {})
        nb_title = metadata.get("title") if isinstance(metadata.get("title"), str) else None
        project = self.create(
            actor, title or nb_title or fallback_title or "Untitled notebook", description, nb
        )
        if not publish:
            return project, None
        version = self.publish(actor, project.row.id)
        return self.get(actor, project.row.id), version

    def update(
        self,
        actor: Actor,
        project_id: str,
        changes: Mapping[str, Any],
    ) -> ProjectView:
        """Apply the given fields: `status` (a label or None), `run_timeout_seconds` and
        `memory_limit_mb` (None: the server's defaults)."""
        require(actor, Action.EDIT_PROJECTS)
        with self._db.write() as session:
            row, _ = checked_project(session, actor, project_id, Action.EDIT_PROJECTS)
            if "status" in changes:
                row.status_label = changes["status"]
            if "run_timeout_seconds" in changes:
                row.run_timeout_seconds = changes["run_timeout_seconds"]
            if "memory_limit_mb" in changes:
                row.memory_limit_mb = changes["memory_limit_mb"]
            row.last_edited_at = self._clock()
            session.flush()
            return self._view(session, row)

    def parse(self, raw: bytes | str) -> dict[str, Any]:
        nb = notebooks.parse_notebook(raw, max_bytes=self._max_bytes)
        _declared_parameters(nb)  # reject a bad parameters cell at upload, not at publish
        return nb

    # -- helpers -------------------------------------------------------------------------

    def _view(self, session: Any, row: ProjectRow) -> ProjectView:
        creator = identity_store.get_user(session, row.creator_id)
        owner = identity_store.get_user(session, row.owner_id)
        specs: list[params.ParameterSpec] = []
        if row.latest_version is not None:
            version = store.get_version(session, row.id, row.latest_version)
            if version is not None:
                specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        return ProjectView(
            row=row,
            creator_email=creator.email if creator else "",
            owner_email=owner.email if owner else "",
            parameters=specs,
        )


def _declared_parameters(nb: Mapping[str, Any]) -> list[params.ParameterSpec]:
    index = notebooks.find_parameters_cell(nb)
    if index is None:
        return []
    return params.parse_parameters_source(nb["cells"][index]["source"])


def _moment(text: str) -> datetime | None:
    """The sort value of a cursor: an ISO timestamp, or "" for a project never published."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise BadRequest(f"Invalid pagination cursor value: {text!r}") from error
