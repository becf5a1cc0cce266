"""The one gate in front of every project: find it, and check what the actor may do with it.

Every service that touches a project (projects, runs, schedules, sharing, collections) goes
through `checked_project`, so a project not shared with someone is missing (404) for them
everywhere, and one they may see but not act on is a 403 everywhere.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from runyard.domain.access import AccessLevel
from runyard.domain.permissions import (
    Action,
    Actor,
    is_workspace_member,
    may_on_project,
    project_access,
    required_project_access,
    sees_every_project,
)
from runyard.errors import Forbidden, NotFound
from runyard.store import project_sharing as sharing_store
from runyard.store import projects as projects_store
from runyard.store.collections import Viewer
from runyard.store.projects import ProjectAccessFacts, ProjectRow


def viewer_of(actor: Actor) -> Viewer | None:
    """Whose grants limit what the actor sees; None for an admin, who sees every project."""
    if sees_every_project(actor.role):
        return None
    return Viewer(user_id=actor.user_id, workspace_member=is_workspace_member(actor.role))


def access_to(session: Session, actor: Actor, project: ProjectAccessFacts) -> AccessLevel:
    viewer = viewer_of(actor)
    levels = [] if viewer is None else sharing_store.levels_for(session, project, viewer)
    return project_access(
        actor,
        is_owner=project.owner_id == actor.user_id,
        grants=[AccessLevel(level) for level in levels],
    )


def checked_project(
    session: Session, actor: Actor, project_id: str, action: Action
) -> tuple[ProjectRow, AccessLevel]:
    """The project and the actor's access to it, if they may take `action` on it.

    Raises NotFound when the project does not exist or the actor has no access to it at all,
    and Forbidden when they can see it but their access (or token) falls short of `action`.
    """
    row = projects_store.get_project(session, project_id)
    if row is None:
        raise NotFound("project", project_id)
    facts = ProjectAccessFacts(
        id=row.id, owner_id=row.owner_id, workspace_access=row.workspace_access
    )
    return row, _allowed(session, actor, facts, action)


def checked_access(session: Session, actor: Actor, project_id: str, action: Action) -> AccessLevel:
    """`checked_project` for callers that need only the access, not the project: it reads
    the project's access facts alone (`store.projects.access_facts`), never its notebook."""
    facts = projects_store.access_facts(session, project_id)
    if facts is None:
        raise NotFound("project", project_id)
    return _allowed(session, actor, facts, action)


def checked_facts(
    session: Session, actor: Actor, facts: ProjectAccessFacts, action: Action
) -> AccessLevel:
    """`checked_access` for callers that read the project's access facts themselves, in the
    same statement as what they read next (`store.run_polls`)."""
    return _allowed(session, actor, facts, action)


def _allowed(
    session: Session, actor: Actor, project: ProjectAccessFacts, action: Action
) -> AccessLevel:
    access = access_to(session, actor, project)
    if access is AccessLevel.NONE:
        raise NotFound("project", project.id)
    if not may_on_project(actor, action, access):
        needed = required_project_access(action)
        raise Forbidden(
            f"Insufficient access: {action.value} needs {needed.value} on this project; "
            f"you have {access.value}"
        )
    return access
