"""Saved views: named sets of input values on a project (Hex's `viewId`).

Anyone who may see the project lists its views and runs them; whoever may edit it creates,
renames and deletes them. A view's inputs are checked against the published version when
saved, and again (by the trigger) when a run uses them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from runyard.domain import parameters as params
from runyard.domain.permissions import Action, Actor
from runyard.errors import BadRequest, Conflict, NotFound
from runyard.services.projects import ProjectService
from runyard.store import views as store
from runyard.store.db import Database
from runyard.store.views import SavedViewRow


class ViewService:
    def __init__(self, db: Database, projects: ProjectService, clock: Callable[[], datetime]):
        self._db = db
        self._projects = projects
        self._clock = clock

    def list(self, actor: Actor, project_id: str) -> list[SavedViewRow]:
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        with self._db.read() as session:
            return store.views_of(session, project_id)

    def get(self, actor: Actor, project_id: str, view_id: str) -> SavedViewRow:
        self._projects.check(actor, project_id, Action.READ_PROJECTS)
        with self._db.read() as session:
            return _found(session, project_id, view_id)

    def create(
        self, actor: Actor, project_id: str, name: str, inputs: Mapping[str, Any]
    ) -> SavedViewRow:
        """Save `inputs` (checked against the published version: 422 naming each bad one)
        as the view `name` (409 if the project has a view of that name)."""
        self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        name = _checked_name(name)
        version = self._projects.published_version(project_id)
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        checked = params.validate_inputs(specs, inputs)
        now = self._clock()
        row = SavedViewRow(
            id=str(uuid.uuid4()),
            project_id=project_id,
            name=name,
            input_params=dict(checked),
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        with self._db.write() as session:
            _unique(session, project_id, name)
            session.add(row)
        return row

    def rename(self, actor: Actor, project_id: str, view_id: str, name: str) -> SavedViewRow:
        self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        name = _checked_name(name)
        with self._db.write() as session:
            row = _found(session, project_id, view_id)
            if row.name != name:
                _unique(session, project_id, name)
                row.name = name
                row.updated_at = self._clock()
            return row

    def delete(self, actor: Actor, project_id: str, view_id: str) -> None:
        self._projects.check(actor, project_id, Action.EDIT_PROJECTS)
        with self._db.write() as session:
            session.delete(_found(session, project_id, view_id))


def _found(session: Any, project_id: str, view_id: str) -> SavedViewRow:
    row = store.get_view(session, project_id, view_id)
    if row is None:
        raise NotFound("saved view", view_id)
    return row


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadRequest("name: must not be blank", issues=["name: must not be blank"])
    return name


def _unique(session: Any, project_id: str, name: str) -> None:
    # The UNIQUE constraint is the guarantee; this check turns the usual case into a 409
    # that names the field instead of an integrity error.
    if store.named(session, project_id, name) is not None:
        raise Conflict(
            f"This project already has a saved view named {name!r}",
            issues=[f"name: a view named {name!r} exists"],
        )
