"""The pure rules of `domain/permissions.py`: role x token scope x project access."""

from __future__ import annotations

import pytest

from runyard.domain.access import AccessLevel
from runyard.domain.permissions import (
    Action,
    Actor,
    Role,
    Scope,
    TokenType,
    is_allowed,
    is_workspace_member,
    may_on_project,
    project_access,
)

A = AccessLevel


def person(role: Role) -> Actor:
    return Actor("u1", "u1@example.com", role, "t1", TokenType.PERSONAL)


def workspace_token(*scopes: Scope) -> Actor:
    return Actor(
        "admin", "admin@example.com", Role.ADMIN, "t2", TokenType.WORKSPACE, frozenset(scopes)
    )


def test_an_admin_has_full_access_to_every_project_shared_or_not() -> None:
    assert project_access(person(Role.ADMIN), is_owner=False, grants=[]) is A.FULL_ACCESS


def test_the_owner_has_full_access_without_any_grant() -> None:
    assert project_access(person(Role.EDITOR), is_owner=True, grants=[]) is A.FULL_ACCESS


def test_without_a_grant_a_project_is_invisible_even_to_a_manager() -> None:
    for role in (Role.MANAGER, Role.EDITOR, Role.EXPLORER, Role.MEMBER, Role.GUEST):
        assert project_access(person(role), is_owner=False, grants=[]) is A.NONE


def test_the_strongest_grant_counts() -> None:
    got = project_access(person(Role.EDITOR), is_owner=False, grants=[A.APP_ONLY, A.CAN_EDIT])
    assert got is A.CAN_EDIT


@pytest.mark.parametrize(
    ("role", "ceiling"),
    [
        (Role.MANAGER, A.FULL_ACCESS),
        (Role.EDITOR, A.FULL_ACCESS),
        (Role.EXPLORER, A.CAN_VIEW),
        (Role.MEMBER, A.APP_ONLY),
        (Role.GUEST, A.APP_ONLY),
    ],
)
def test_the_role_caps_what_a_grant_gives(role: Role, ceiling: AccessLevel) -> None:
    assert project_access(person(role), is_owner=False, grants=[A.FULL_ACCESS]) is ceiling
    # ...even for the project's owner: a demoted editor keeps seeing, not editing.
    assert project_access(person(role), is_owner=True, grants=[]) is ceiling


@pytest.mark.parametrize(
    ("action", "least"),
    [
        (Action.READ_PROJECTS, A.APP_ONLY),
        (Action.RUN_PROJECTS, A.APP_ONLY),
        (Action.VIEW_PROJECT_SOURCE, A.CAN_VIEW),
        (Action.EDIT_PROJECTS, A.CAN_EDIT),
        (Action.SHARE_PROJECTS, A.FULL_ACCESS),
    ],
)
def test_each_project_action_needs_its_access_level(action: Action, least: AccessLevel) -> None:
    editor = person(Role.EDITOR)
    levels = list(AccessLevel)
    for level in levels:
        expected = levels.index(level) >= levels.index(least)
        assert may_on_project(editor, action, level) is expected, (action, level)


def test_a_workspace_token_needs_the_scope_of_the_action_even_with_full_access() -> None:
    runner = workspace_token(Scope.PROJECTS_RUN)
    assert may_on_project(runner, Action.RUN_PROJECTS, A.FULL_ACCESS)
    assert not may_on_project(runner, Action.READ_PROJECTS, A.FULL_ACCESS)
    reader = workspace_token(Scope.PROJECTS_READ)
    assert may_on_project(reader, Action.VIEW_PROJECT_SOURCE, A.FULL_ACCESS)
    assert not may_on_project(reader, Action.RUN_PROJECTS, A.FULL_ACCESS)
    assert not may_on_project(reader, Action.SHARE_PROJECTS, A.FULL_ACCESS)


def test_a_personal_token_acts_with_its_users_rights_whatever_scopes_it_lists() -> None:
    member = person(Role.MEMBER)
    assert is_allowed(member, Action.RUN_PROJECTS)
    assert not is_allowed(member, Action.EDIT_PROJECTS)
    assert not is_allowed(member, Action.MANAGE_USERS)


def test_guests_are_not_workspace_members() -> None:
    assert not is_workspace_member(Role.GUEST)
    assert all(is_workspace_member(r) for r in (Role.ADMIN, Role.EDITOR, Role.MEMBER))
