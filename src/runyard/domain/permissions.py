"""Who may do what: role x token scope -> allowed?

One pure function decides, and every service asks it, so the API, the web UI and the CLI
cannot disagree. Per-object access (project sharing, connection sharing) joins this module
with the workspace-administration work; until then every active user of the workspace sees
every project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
    READ_USERS = "read users"
    MANAGE_USERS = "manage users"
    READ_GROUPS = "read groups"
    MANAGE_GROUPS = "manage groups"
    READ_COLLECTIONS = "read collections"
    MANAGE_COLLECTIONS = "manage collections"
    READ_CONNECTIONS = "read data connections"
    MANAGE_CONNECTIONS = "manage data connections"
    READ_AUDIT = "read the audit log"


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
    # Workspace administration, as in Hex: admins, and managers where Hex allows them.
    Action.READ_USERS: (Role.MEMBER, Scope.USERS_READ),
    Action.MANAGE_USERS: (Role.ADMIN, Scope.USERS_WRITE),
    Action.READ_GROUPS: (Role.MEMBER, Scope.GROUPS_READ),
    Action.MANAGE_GROUPS: (Role.MANAGER, Scope.GROUPS_WRITE),
    Action.READ_COLLECTIONS: (Role.GUEST, Scope.COLLECTIONS_READ),
    Action.MANAGE_COLLECTIONS: (Role.MANAGER, Scope.COLLECTIONS_WRITE),
    Action.READ_CONNECTIONS: (Role.EDITOR, Scope.CONNECTIONS_READ),
    Action.MANAGE_CONNECTIONS: (Role.ADMIN, Scope.CONNECTIONS_WRITE),
    # The audit log names every user and change: admins only, whatever a token's scopes.
    Action.READ_AUDIT: (Role.ADMIN, Scope.USERS_READ),
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
