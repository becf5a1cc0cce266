"""Who may do what: role x token scope x access to the object -> allowed?

Pure functions decide, and every service asks them, so the API, the web UI and the CLI
cannot disagree:

- `is_allowed(actor, action)`: may this role, through this token, take the action at all?
- `project_access(actor, ...)`: what the actor's grants on one project add up to, capped by
  what the actor's role can exercise.
- `may_on_project(actor, action, access)`: both of the above for an action on a project.

A project the actor has no access to (`NONE`) is reported as missing by the services (404),
so that its existence does not leak; a project they can see but not act on is a 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from runyard.domain.access import AccessLevel, at_least, strongest


class Role(StrEnum):
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    EDITOR = "EDITOR"
    EXPLORER = "EXPLORER"
    MEMBER = "MEMBER"
    GUEST = "GUEST"
    EMBEDDED_USER = "EMBEDDED_USER"
    ANONYMOUS = "ANONYMOUS"


class TokenType(StrEnum):
    PERSONAL = "PERSONAL"
    WORKSPACE = "WORKSPACE"


class Scope(StrEnum):
    PROJECTS_READ = "projects:read"
    PROJECTS_WRITE = "projects:write"
    PROJECTS_RUN = "projects:run"
    PROJECTS_READ_QUERIED_TABLES = "projects:read_queried_tables"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    GROUPS_READ = "groups:read"
    GROUPS_WRITE = "groups:write"
    COLLECTIONS_READ = "collections:read"
    COLLECTIONS_WRITE = "collections:write"
    CONNECTIONS_READ = "connections:read"
    CONNECTIONS_WRITE = "connections:write"
    CELLS_READ = "cells:read"
    CELLS_WRITE = "cells:write"


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)


class Action(StrEnum):
    READ_PROJECTS = "read projects"
    EDIT_PROJECTS = "edit projects"
    RUN_PROJECTS = "run projects"
    VIEW_PROJECT_SOURCE = "view project notebooks"
    SHARE_PROJECTS = "share projects"
    READ_USERS = "read users"
    MANAGE_USERS = "manage users"
    READ_GROUPS = "read groups"
    MANAGE_GROUPS = "manage groups"
    READ_COLLECTIONS = "read collections"
    MANAGE_COLLECTIONS = "manage collections"
    READ_CONNECTIONS = "read data connections"
    MANAGE_CONNECTIONS = "manage data connections"
    READ_AUDIT = "read the audit log"
    READ_CELLS = "read cells"
    EDIT_CELLS = "edit cells"
    READ_QUERIED_TABLES = "read queried tables"


# The least role that may take each action, and the scope a workspace token needs for it.
_ROLE_RANK = {
    Role.ADMIN: 60,
    Role.MANAGER: 50,
    Role.EDITOR: 40,
    Role.EXPLORER: 30,
    Role.MEMBER: 20,
    Role.GUEST: 10,
    Role.EMBEDDED_USER: 5,
    Role.ANONYMOUS: 0,
}
_RULES: dict[Action, tuple[Role, Scope]] = {
    Action.READ_PROJECTS: (Role.GUEST, Scope.PROJECTS_READ),
    Action.EDIT_PROJECTS: (Role.EDITOR, Scope.PROJECTS_WRITE),
    Action.RUN_PROJECTS: (Role.GUEST, Scope.PROJECTS_RUN),
    Action.VIEW_PROJECT_SOURCE: (Role.GUEST, Scope.PROJECTS_READ),
    Action.SHARE_PROJECTS: (Role.EDITOR, Scope.PROJECTS_WRITE),
    # Workspace administration, as in Hex: admins, and managers where Hex allows them.
    Action.READ_USERS: (Role.MEMBER, Scope.USERS_READ),
    Action.MANAGE_USERS: (Role.ADMIN, Scope.USERS_WRITE),
    Action.READ_GROUPS: (Role.MEMBER, Scope.GROUPS_READ),
    Action.MANAGE_GROUPS: (Role.MANAGER, Scope.GROUPS_WRITE),
    Action.READ_COLLECTIONS: (Role.GUEST, Scope.COLLECTIONS_READ),
    Action.MANAGE_COLLECTIONS: (Role.MANAGER, Scope.COLLECTIONS_WRITE),
    # Anyone may list connections; which ones they see, and in how much detail, is decided
    # per connection by its sharing (`may_see_connection`, `sees_connection_details`).
    Action.READ_CONNECTIONS: (Role.GUEST, Scope.CONNECTIONS_READ),
    Action.MANAGE_CONNECTIONS: (Role.ADMIN, Scope.CONNECTIONS_WRITE),
    # The audit log names every user and change: admins only, whatever a token's scopes.
    Action.READ_AUDIT: (Role.ADMIN, Scope.USERS_READ),
    # Hex's cells API reads and edits the draft notebook: its own scopes, and the project
    # access that reading (CAN_VIEW) and editing (CAN_EDIT) the notebook need.
    Action.READ_CELLS: (Role.GUEST, Scope.CELLS_READ),
    Action.EDIT_CELLS: (Role.EDITOR, Scope.CELLS_WRITE),
    # The tables a project's SQL reads tell of its code: explorers and up.
    Action.READ_QUERIED_TABLES: (Role.GUEST, Scope.PROJECTS_READ_QUERIED_TABLES),
}


@dataclass(frozen=True)
class Actor:
    """Whoever is making a request: a user, through a personal or workspace token."""

    user_id: str
    email: str
    role: Role
    token_id: str | None
    token_type: TokenType
    scopes: frozenset[Scope] = field(default_factory=frozenset)


def is_allowed(actor: Actor, action: Action) -> bool:
    least_role, scope = _RULES[action]
    if _ROLE_RANK[actor.role] < _ROLE_RANK[least_role]:
        return False
    # Personal tokens act with their user's rights; workspace tokens only within their scopes.
    return actor.token_type is TokenType.PERSONAL or scope in actor.scopes


# The access to a project each action needs (Hex's levels: "Can view app" runs the app and
# reads its results; "Can explore" also reads the notebook; "Can edit"; "Full access" also
# shares). Actions missing here are not about one project.
_PROJECT_LEVEL: dict[Action, AccessLevel] = {
    Action.READ_PROJECTS: AccessLevel.APP_ONLY,
    Action.RUN_PROJECTS: AccessLevel.APP_ONLY,
    Action.VIEW_PROJECT_SOURCE: AccessLevel.CAN_VIEW,
    Action.EDIT_PROJECTS: AccessLevel.CAN_EDIT,
    Action.SHARE_PROJECTS: AccessLevel.FULL_ACCESS,
    Action.READ_CELLS: AccessLevel.CAN_VIEW,
    Action.EDIT_CELLS: AccessLevel.CAN_EDIT,
    Action.READ_QUERIED_TABLES: AccessLevel.CAN_VIEW,
}

# The strongest project access each role can exercise, whatever it was granted: a member
# given "Can edit" still only views apps, as in Hex, where the role is a seat's ceiling.
_ROLE_CEILING: dict[Role, AccessLevel] = {
    Role.ADMIN: AccessLevel.FULL_ACCESS,
    Role.MANAGER: AccessLevel.FULL_ACCESS,
    Role.EDITOR: AccessLevel.FULL_ACCESS,
    Role.EXPLORER: AccessLevel.CAN_VIEW,
    Role.MEMBER: AccessLevel.APP_ONLY,
    Role.GUEST: AccessLevel.APP_ONLY,
    Role.EMBEDDED_USER: AccessLevel.APP_ONLY,
    Role.ANONYMOUS: AccessLevel.NONE,
}

# Roles that see every collection, shared with them or not.
_SEES_ALL_COLLECTIONS = frozenset({Role.ADMIN, Role.MANAGER})
# Roles a workspace-wide grant reaches: Hex's "workspace members", which leaves out guests.
_WORKSPACE_MEMBERS = frozenset({Role.ADMIN, Role.MANAGER, Role.EDITOR, Role.EXPLORER, Role.MEMBER})


def is_workspace_member(role: Role) -> bool:
    """True if grants to "the workspace" reach this role (guests are not members)."""
    return role in _WORKSPACE_MEMBERS


def sees_every_collection(role: Role) -> bool:
    return role in _SEES_ALL_COLLECTIONS


def sees_every_project(role: Role) -> bool:
    """Admins have full access to every project, shared with them or not."""
    return role is Role.ADMIN


def project_access(actor: Actor, *, is_owner: bool, grants: list[AccessLevel]) -> AccessLevel:
    """What the actor may do with one project.

    1. An admin, or the project's owner, has full access.
    2. Otherwise the strongest of the actor's grants counts: their own, their groups', the
       workspace's (for members) and those of the collections they can see.
    3. The role caps the result (`_ROLE_CEILING`).
    """
    if sees_every_project(actor.role) or is_owner:
        granted = AccessLevel.FULL_ACCESS
    else:
        granted = strongest(grants)
    ceiling = _ROLE_CEILING[actor.role]
    return granted if at_least(ceiling, granted) else ceiling


def required_project_access(action: Action) -> AccessLevel:
    return _PROJECT_LEVEL[action]


def may_on_project(actor: Actor, action: Action, access: AccessLevel) -> bool:
    """True if the actor may take `action` on a project they hold `access` to."""
    return is_allowed(actor, action) and at_least(access, _PROJECT_LEVEL[action])


def may_see_connection(actor: Actor, *, members: str, guests: str, group_grants: int) -> bool:
    """True if a data connection is shared with the actor.

    `members` and `guests` are the connection's workspace-wide grants (`NONE`, `QUERY`,
    `VIEW_RESULTS`); `group_grants` counts its grants to groups the actor is in. Admins see
    every connection.
    """
    if sees_every_connection(actor.role):
        return True
    workspace_grant = members if is_workspace_member(actor.role) else guests
    return workspace_grant != "NONE" or group_grants > 0


def may_query_connection(
    actor: Actor, *, members: str, guests: str, group_access: Sequence[str]
) -> bool:
    """True if the actor may run new SQL on a data connection.

    Admins may query every connection. Anyone else needs `QUERY` from the connection's
    workspace grant for their kind of seat, or from a grant to one of their groups
    (`group_access`); `VIEW_RESULTS` reads results that exist, it runs no new SQL.
    """
    if sees_every_connection(actor.role):
        return True
    workspace_grant = members if is_workspace_member(actor.role) else guests
    return "QUERY" in (workspace_grant, *group_access)


def sees_connection_details(actor: Actor) -> bool:
    """Admins read a connection's settings and sharing; others only its id, name and type
    (Hex's `DataConnectionBasic`)."""
    return sees_every_connection(actor.role)


def sees_every_connection(role: Role) -> bool:
    return role is Role.ADMIN
