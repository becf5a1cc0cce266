"""Bad input anywhere in the API gets a 4xx in Hex's superset error body and changes nothing.

The routes are not listed by hand: they are walked from the app, so a route added later is
probed without editing this file, and a route it cannot feed yet (a request model with no
valid example below, a path parameter that is not a UUID) fails the coverage test, which
says what to add. Every bad request is followed by a snapshot of the whole database (row
count and a hash of the rows of every table) compared with the one taken before the probes:
a failed request that writes anything, an audit row included, is a defect.

Which bodies accept unknown top-level keys: Hex's RunProjectRequestBody (the two run trigger
paths), whose unknown fields Hex ignores, and its createPresignedUrl body, which allows extra
properties (`EXTRA_KEYS_ALLOWED`). Every other request
model is a `StrictWire` and refuses them. The notebook upload paths take a raw nbformat
document, whose unknown keys are dropped as nbformat does (see tests/api/test_project_notebook.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import types
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from annotated_types import Ge, Le, MaxLen, MinLen
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from runyard.api import (
    cell_wire,
    collection_wire,
    connection_wire,
    embedding_wire,
    group_wire,
    project_wire,
    run_wire,
    schedule_wire,
    sharing_wire,
    token_wire,
    user_wire,
    view_wire,
)
from runyard.app import Runtime
from runyard.store import metadata
from tests.cast import notebook, one_of_everything, postgres_details

SUPERSET = {"code", "message", "issues", "reason", "details", "traceId"}
REFUSED = {400, 404, 422}
# The server refuses request bodies larger than its notebook limit. A small one here keeps
# oversized bodies cheap to send, yet above the longest valid field (20,000 characters).
BODY_LIMIT = 64 * 1024
MALFORMED_IDS = ("not-a-uuid", "123", "0123456789abcdef" * 2 + "01234567")
SEEDED_IDS = frozenset(
    {
        "projectId",
        "runId",
        "scheduleId",
        "userId",
        "tokenId",
        "groupId",
        "collectionId",
        "dataConnectionId",
        "viewId",
        "cellId",
    }
)
# Bookkeeping of authentication, written at most once a minute per token whatever the
# request does (services/identity.py): not a change a bad request made.
VOLATILE_COLUMNS = {("api_tokens", "last_used_at"), ("users", "last_login_at")}

Ids = dict[str, str]


@pytest.fixture
def settings_values(settings_values: dict[str, Any]) -> dict[str, Any]:
    return {**settings_values, "max_notebook_bytes": BODY_LIMIT}


# -- the routes, walked from the app ---------------------------------------------------------


def walk_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route the app serves, whatever routers nest them."""
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if callable(nested):
            # FastAPI 0.165 keeps an included router as one entry of `app.routes`; its
            # candidates are its routes as served (prefix applied), nested routers included.
            yield from walk_routes(nested())
        elif isinstance(getattr(route, "routes", None), list):
            yield from walk_routes(route.routes)  # a mounted router or app
        else:
            yield route


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    route: Any  # an APIRoute, or FastAPI's per-include view of one (same attributes)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[Any]:
        return list(self.route.dependant.path_params)

    @property
    def query_params(self) -> list[Any]:
        return list(self.route.dependant.query_params)

    @property
    def header_params(self) -> list[Any]:
        # The route's own headers; `Authorization` belongs to the shared actor dependency.
        return list(self.route.dependant.header_params)

    @property
    def body_model(self) -> type[BaseModel] | None:
        body = self.route.body_field
        if body is None:
            return None
        models = [m for m in _members(body.field_info.annotation) if _is_model(m)]
        assert len(models) == 1, f"{self}: body {body.field_info.annotation} is not one model"
        return models[0]

    @property
    def takes_raw_body(self) -> bool:
        """A body the handler reads itself (a notebook), declared for the docs only."""
        return self.route.body_field is None and "requestBody" in (self.route.openapi_extra or {})

    def url(self, ids: Ids, **overrides: str) -> str:
        values = {**ids, **overrides}
        return self.path.format(
            **{p.name: quote(values[p.name], safe="") for p in self.path_params}
        )


def api_routes(app: FastAPI) -> list[ApiRoute]:
    found = []
    for route in walk_routes(app.routes):
        path = getattr(route, "path", "")
        if path.startswith("/api/v1/"):
            assert hasattr(route, "dependant"), f"{path}: not a FastAPI route"
            found += [ApiRoute(method, path, route) for method in sorted(route.methods)]
    return found


# -- reading annotations ---------------------------------------------------------------------


def _members(annotation: Any) -> list[Any]:
    """The alternatives of a type: `A | B | None` -> [A, B, NoneType]; Annotated unwrapped."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _constraints(annotation: Any, metadata: list[Any]) -> list[Any]:
    found = list(metadata)
    if get_origin(annotation) is Annotated:
        for extra in get_args(annotation)[1:]:
            found += getattr(extra, "metadata", [extra])
        found += _constraints(get_args(annotation)[0], [])
    elif get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            found += _constraints(arg, [])
    return found


def _is_model(member: Any) -> bool:
    return isinstance(member, type) and issubclass(member, BaseModel)


def _choices(member: Any) -> list[str] | None:
    if get_origin(member) is Literal:
        return [str(value) for value in get_args(member)]
    if isinstance(member, type) and issubclass(member, Enum):
        return [str(item.value) for item in member]
    return None


def _is(member: Any, kind: type) -> bool:
    return member is kind or get_origin(member) is kind


def bad_values(annotation: Any, metadata: list[Any]) -> list[tuple[str, Any]]:
    """Values no member of the type accepts, each with what it tries."""
    members = _members(annotation)
    if Any in members:
        return []
    constraints = _constraints(annotation, metadata)
    takes_object = any(_is_model(m) or _is(m, dict) for m in members)
    takes_list = any(_is(m, list) for m in members)
    found: list[tuple[str, Any]] = []
    if not (takes_object and takes_list):
        found.append(("wrong JSON type", ["a", "list"] if takes_object else {"an": "object"}))
    if type(None) not in members:
        found.append(("null", None))
    if all(_choices(m) is not None for m in members if m is not type(None)):
        found.append(("unknown enum value", "NOT_A_REAL_VALUE"))
    if uuid.UUID in members:
        found.append(("malformed UUID", "not-a-uuid"))
    if any(m is datetime or getattr(m, "__name__", "") == "AwareDatetime" for m in members):
        found += [("not a timestamp", "next tuesday"), ("no time zone", "2099-01-01T00:00:00")]
    if int in members or float in members:
        found += [("words for a number", "ten"), ("NaN", float("nan")), ("infinity", float("inf"))]
        found += [("below the minimum", c.ge - 1) for c in constraints if isinstance(c, Ge)]
        found += [("above the maximum", c.le + 1) for c in constraints if isinstance(c, Le)]
    if bool in members:
        found.append(("not a boolean", "maybe"))
    if str in members:
        # PostgreSQL cannot store it in text or jsonb; SQLite could. Refused on both.
        found.append(("NUL character", "a\x00b"))
        found.append(("lone surrogate", "a\ud800b"))  # no UTF-8 for it: no database takes it
        if any(isinstance(c, MinLen) and c.min_length >= 1 for c in constraints):
            found += [("empty", ""), ("whitespace only", "   ")]
        found += [
            ("too long", "x" * (c.max_length + 1)) for c in constraints if isinstance(c, MaxLen)
        ]
    return found


# -- valid examples of every request model, and the bad variants of each ----------------------


def _notebook_text() -> str:
    return json.dumps(notebook("m = n * 2", parameters="n = 1"))


VALID_BODIES: dict[type[BaseModel], Callable[[Ids], dict[str, Any]]] = {
    project_wire.CreateProjectBody: lambda ids: {"title": "A title", "description": "Words"},
    project_wire.UpdateProjectBody: lambda ids: {"status": "Live", "runTimeoutSeconds": 60},
    # A dry run validates and answers without writing, so an accepted one changes nothing.
    run_wire.RunProjectBody: lambda ids: {"dryRun": True, "inputParams": {"n": 2}},
    schedule_wire.ScheduleIn: lambda ids: {
        "cadence": "DAILY",
        "timezone": "UTC",
        "daily": {"hour": 4, "minute": 30},
        "enabled": False,
    },
    schedule_wire.SchedulePatch: lambda ids: {"enabled": False, "catchUp": "skip"},
    user_wire.CreateUserBody: lambda ids: {
        "email": "new@example.com",
        "name": "New",
        "role": "EDITOR",
    },
    user_wire.UpdateUserBody: lambda ids: {"name": "Renamed", "role": "MEMBER"},
    token_wire.CreateTokenBody: lambda ids: {
        "type": "WORKSPACE",
        "scopes": ["projects:read"],
        "description": "A token",
    },
    group_wire.CreateGroupBody: lambda ids: {
        "name": "Group",
        "members": {"users": [{"id": ids["userId"]}]},
    },
    group_wire.EditGroupBody: lambda ids: {
        "name": "Renamed",
        "members": {"add": {"users": [{"id": ids["userId"]}]}},
    },
    collection_wire.CreateCollectionBody: lambda ids: {
        "name": "Collection",
        "description": "Words",
        "sharing": {
            "users": [{"id": ids["userId"], "access": "CAN_VIEW"}],
            "workspace": {"members": "APP_ONLY"},
        },
    },
    collection_wire.EditCollectionBody: lambda ids: {
        "name": "Renamed",
        "sharing": {"upsert": {"groups": [{"id": ids["groupId"], "access": "CAN_EDIT"}]}},
    },
    collection_wire.EditProjectCollectionsBody: lambda ids: {
        "sharing": {
            "upsert": {
                "collections": [{"collection": {"id": ids["collectionId"]}, "access": "CAN_VIEW"}]
            }
        }
    },
    connection_wire.CreateConnectionBody: lambda ids: {
        "name": "Warehouse",
        "type": "postgres",
        "connectionDetails": postgres_details(),
        "schemaRefreshAccess": "ADMINS",
        "sharing": {
            "workspace": {"members": "QUERY"},
            "groups": [{"group": {"id": ids["groupId"]}, "access": "QUERY"}],
        },
    },
    connection_wire.EditConnectionBody: lambda ids: {
        "name": "Renamed",
        "description": "Words",
        "sharing": {"groups": {"upsert": [{"group": {"id": ids["groupId"]}, "access": "QUERY"}]}},
    },
    view_wire.CreateViewBody: lambda ids: {"name": "A view", "inputParams": {"n": 3}},
    # A presigned URL is signed, not stored: an accepted request changes nothing.
    embedding_wire.CreatePresignedUrlBody: lambda ids: {
        "inputParameters": {"n": 2},
        "expiresIn": 1000,
        "displayOptions": {"theme": "dark"},
        "testMode": True,
    },
    cell_wire.CreateCellBody: lambda ids: {
        "projectId": ids["projectId"],
        "cellType": "CODE",
        "label": "A cell",
        "contents": {"codeCell": {"source": "x = 1"}},
        "location": {"childPosition": "LAST"},
    },
    cell_wire.UpdateCellBody: lambda ids: {"contents": {"codeCell": {"source": "n = 1"}}},
    view_wire.RenameViewBody: lambda ids: {"name": "Renamed view"},
    sharing_wire.EditUsersBody: lambda ids: {
        "sharing": {"upsert": {"users": [{"user": {"id": ids["userId"]}, "access": "CAN_VIEW"}]}}
    },
    sharing_wire.EditGroupsBody: lambda ids: {
        "sharing": {"upsert": {"groups": [{"group": {"id": ids["groupId"]}, "access": "CAN_EDIT"}]}}
    },
    sharing_wire.EditWorkspaceBody: lambda ids: {
        "sharing": {"workspace": "CAN_VIEW", "publicWeb": "NONE"}
    },
}

# Models whose contract lets unknown top-level keys through, and why.
EXTRA_KEYS_ALLOWED = {
    run_wire.RunProjectBody: "Hex's RunProjectRequestBody: unknown fields are ignored, as Hex does",
    embedding_wire.CreatePresignedUrlBody: "Hex's createPresignedUrl body allows extra properties",
}


@dataclass(frozen=True)
class Case:
    """A bad body: what it tries, the body, and the field its error must name."""

    label: str
    body: Callable[[Ids], Any]
    naming: str | None


def _with(model: type[BaseModel], **changes: Any) -> Callable[[Ids], dict[str, Any]]:
    def body(ids: Ids) -> dict[str, Any]:
        made = {**VALID_BODIES[model](ids)}
        for key, value in changes.items():
            made[key] = value(ids) if callable(value) else value
        return made

    return body


# Cases the annotations cannot derive: nested fields, rules the services enforce, and
# values that are well typed but wrong. Top-level fields are covered by `bad_values`.
NESTED_CASES: dict[type[BaseModel], list[Case]] = {
    project_wire.UpdateProjectBody: [
        Case(
            "zero timeout",
            _with(project_wire.UpdateProjectBody, runTimeoutSeconds=0),
            "runTimeoutSeconds",
        ),
        Case("status a list", _with(project_wire.UpdateProjectBody, status=["Live"]), "status"),
        Case(
            "memory limit too small",
            _with(project_wire.UpdateProjectBody, memoryLimitMb=10),
            "memoryLimitMb",
        ),
        Case(
            "NaN timeout",
            _with(project_wire.UpdateProjectBody, runTimeoutSeconds=float("nan")),
            "runTimeoutSeconds",
        ),
    ],
    run_wire.RunProjectBody: [
        Case(
            "input of the wrong type",
            _with(run_wire.RunProjectBody, inputParams={"n": "ten"}),
            "inputParams.n",
        ),
        Case(
            "unknown input",
            _with(run_wire.RunProjectBody, inputParams={"nope": 1}),
            "inputParams.nope",
        ),
        # Not dry runs: a refused one writes nothing, an accepted one would show in the tables.
        Case(
            "NaN input",
            _with(run_wire.RunProjectBody, dryRun=False, inputParams={"ratio": float("nan")}),
            "inputParams.ratio",
        ),
        Case(
            "infinite input",
            _with(run_wire.RunProjectBody, dryRun=False, inputParams={"ratio": float("inf")}),
            "inputParams.ratio",
        ),
        Case(
            "lone surrogate in an input",
            _with(run_wire.RunProjectBody, dryRun=False, inputParams={"label": "a\ud800b"}),
            "inputParams",
        ),
        Case(
            "NUL in an input",
            _with(run_wire.RunProjectBody, dryRun=False, inputParams={"label": "a\x00b"}),
            "inputParams",
        ),
        Case(
            "unknown notification type",
            _with(run_wire.RunProjectBody, notifications=[{"type": "SOMETIMES"}]),
            "notifications.0.type",
        ),
    ],
    schedule_wire.ScheduleIn: [
        Case(
            "hour 24",
            _with(schedule_wire.ScheduleIn, daily={"hour": 24, "minute": 0}),
            "daily.hour",
        ),
        Case(
            "minute 60",
            _with(schedule_wire.ScheduleIn, daily={"hour": 1, "minute": 60}),
            "daily.minute",
        ),
        Case(
            "hour in words",
            _with(schedule_wire.ScheduleIn, daily={"hour": "noon", "minute": 0}),
            "daily.hour",
        ),
        Case(
            "unknown zone",
            _with(schedule_wire.ScheduleIn, timezone="Mars/Olympus_Mons"),
            "timezone",
        ),
        Case(
            "cadence without its object",
            _with(schedule_wire.ScheduleIn, cadence="WEEKLY"),
            "weekly",
        ),
        Case(
            "unknown weekday",
            _with(
                schedule_wire.ScheduleIn,
                cadence="WEEKLY",
                daily=None,
                weekly={"dayOfWeek": "FUNDAY", "hour": 1, "minute": 0},
            ),
            "weekly.dayOfWeek",
        ),
        Case(
            "bad cron",
            _with(
                schedule_wire.ScheduleIn,
                cadence="CUSTOM",
                daily=None,
                custom={"cron": "every tuesday"},
            ),
            "custom.cron",
        ),
        # The schedule service prefixes its parameter issues with a second "inputParams: "
        # ("inputParams: inputParams.nope: no such input parameter"); the field is named.
        Case(
            "unknown input", _with(schedule_wire.ScheduleIn, inputParams={"nope": 1}), "inputParams"
        ),
        Case(
            "input of the wrong type",
            _with(schedule_wire.ScheduleIn, inputParams={"n": "ten"}),
            "inputParams",
        ),
        Case(
            "unknown key in the cadence",
            _with(schedule_wire.ScheduleIn, daily={"hour": 1, "minute": 0, "second": 5}),
            "daily.second",
        ),
        Case(
            "unknown notification type",
            _with(schedule_wire.ScheduleIn, notifications=[{"type": "SOMETIMES"}]),
            "notifications.0.type",
        ),
        # This app has no SMTP server: refused for that before the user is looked up.
        Case(
            "user to notify without an SMTP server",
            _with(
                schedule_wire.ScheduleIn,
                notifications=[{"type": "FAILURE", "userIds": [str(uuid.UUID(int=1))]}],
            ),
            "notifications[0].userIds",
        ),
    ],
    schedule_wire.SchedulePatch: [
        Case(
            "lone surrogate in an input",
            _with(schedule_wire.SchedulePatch, inputParams={"label": "a\ud800b"}),
            "inputParams",
        ),
        Case(
            "NaN input",
            _with(schedule_wire.SchedulePatch, inputParams={"ratio": float("nan")}),
            "inputParams",
        ),
        Case(
            "sub-object without cadence",
            _with(schedule_wire.SchedulePatch, hourly={"minute": 5}),
            "cadence",
        ),
        Case(
            "cadence without its object",
            _with(schedule_wire.SchedulePatch, cadence="MONTHLY"),
            "monthly",
        ),
        Case(
            "unknown zone", _with(schedule_wire.SchedulePatch, timezone="Nowhere/Land"), "timezone"
        ),
        Case(
            "unknown input",
            _with(schedule_wire.SchedulePatch, inputParams={"nope": 1}),
            "inputParams",
        ),
        Case(
            "Slack channel without a Slack token",
            _with(
                schedule_wire.SchedulePatch,
                notifications=[{"type": "ALL", "slackChannelIds": ["C1"]}],
            ),
            "notifications[0].slackChannelIds",
        ),
    ],
    view_wire.CreateViewBody: [
        Case(
            "unknown input", _with(view_wire.CreateViewBody, inputParams={"nope": 1}), "inputParams"
        ),
        Case(
            "input of the wrong type",
            _with(view_wire.CreateViewBody, inputParams={"n": "ten"}),
            "inputParams.n",
        ),
    ],
    embedding_wire.CreatePresignedUrlBody: [
        Case(
            "input of the wrong type",
            _with(embedding_wire.CreatePresignedUrlBody, inputParameters={"n": "ten"}),
            None,
        ),
        Case(
            "unknown theme",
            _with(embedding_wire.CreatePresignedUrlBody, displayOptions={"theme": "neon"}),
            "displayOptions.theme",
        ),
        Case(
            "unknown scope",
            _with(embedding_wire.CreatePresignedUrlBody, scope=["PRINT"]),
            "scope.0",
        ),
    ],
    cell_wire.CreateCellBody: [
        Case(
            "contents of another type",
            _with(cell_wire.CreateCellBody, contents={"markdownCell": {"source": "x"}}),
            "contents",
        ),
        Case(
            "SQL without a connection",
            _with(
                cell_wire.CreateCellBody,
                cellType="SQL",
                contents={"sqlCell": {"source": "select 1"}},
            ),
            "contents.sqlCell.dataConnectionId",
        ),
        Case(
            "after a cell of no draft",
            _with(cell_wire.CreateCellBody, location={"insertAfterCellId": str(uuid.UUID(int=7))}),
            "location.insertAfterCellId",
        ),
        Case(
            "inside a parent cell",
            _with(cell_wire.CreateCellBody, location={"parentCellId": str(uuid.UUID(int=7))}),
            "location.parentCellId",
        ),
    ],
    cell_wire.UpdateCellBody: [
        Case(
            "contents of another type",
            _with(cell_wire.UpdateCellBody, contents={"markdownCell": {"source": "x"}}),
            "contents.markdownCell",
        ),
        Case(
            "a connection on a code cell",
            _with(cell_wire.UpdateCellBody, dataConnectionId="x"),
            "dataConnectionId",
        ),
    ],
    user_wire.CreateUserBody: [
        Case("not an email", _with(user_wire.CreateUserBody, email="not-an-email"), "email"),
    ],
    user_wire.UpdateUserBody: [
        Case("role null", _with(user_wire.UpdateUserBody, role=None), "role"),
    ],
    token_wire.CreateTokenBody: [
        Case("unknown scope", _with(token_wire.CreateTokenBody, scopes=["projects:fly"]), "scopes"),
        Case(
            "scopes not strings", _with(token_wire.CreateTokenBody, scopes=[{"a": 1}]), "scopes.0"
        ),
        Case(
            "expiry in the past",
            _with(token_wire.CreateTokenBody, expiresAt="2001-01-01T00:00:00Z"),
            "expiresAt",
        ),
        Case(
            "personal token with scopes",
            _with(token_wire.CreateTokenBody, type="PERSONAL"),
            "scopes",
        ),
        Case(
            "personal token that never expires",
            _with(token_wire.CreateTokenBody, type="PERSONAL", scopes=[], expiresAt=None),
            "expiresAt",
        ),
        Case(
            "personal token beyond the longest lifetime",
            _with(
                token_wire.CreateTokenBody,
                type="PERSONAL",
                scopes=[],
                expiresAt="2999-01-01T00:00:00Z",
            ),
            "expiresAt",
        ),
        Case(
            "workspace token for a user",
            _with(token_wire.CreateTokenBody, userId=lambda ids: ids["userId"]),
            "userId",
        ),
    ],
    group_wire.CreateGroupBody: [
        Case(
            "member id malformed",
            _with(group_wire.CreateGroupBody, members={"users": [{"id": "nope"}]}),
            "members.users.0.id",
        ),
        Case(
            "members a list", _with(group_wire.CreateGroupBody, members=[{"id": "nope"}]), "members"
        ),
        Case(
            "member without id",
            _with(group_wire.CreateGroupBody, members={"users": [{}]}),
            "members.users.0.id",
        ),
    ],
    group_wire.EditGroupBody: [
        Case(
            "member to add malformed",
            _with(group_wire.EditGroupBody, members={"add": {"users": [{"id": "nope"}]}}),
            "members.add.users.0.id",
        ),
        Case(
            "member to remove malformed",
            _with(group_wire.EditGroupBody, members={"remove": {"users": [{"id": 7}]}}),
            "members.remove.users.0.id",
        ),
        Case(
            "unknown member key",
            _with(group_wire.EditGroupBody, members={"replace": []}),
            "members.replace",
        ),
    ],
    collection_wire.CreateCollectionBody: [
        Case(
            "unknown user access",
            _with(
                collection_wire.CreateCollectionBody,
                sharing=lambda ids: {"users": [{"id": ids["userId"], "access": "OWNER"}]},
            ),
            "sharing.users.0.access",
        ),
        Case(
            "unknown workspace access",
            _with(
                collection_wire.CreateCollectionBody, sharing={"workspace": {"members": "EVERYONE"}}
            ),
            "sharing.workspace.members",
        ),
        Case(
            "group id malformed",
            _with(
                collection_wire.CreateCollectionBody,
                sharing={"groups": [{"id": "nope", "access": "CAN_VIEW"}]},
            ),
            "sharing.groups.0.id",
        ),
    ],
    collection_wire.EditCollectionBody: [
        Case(
            "sharing without upsert",
            _with(collection_wire.EditCollectionBody, sharing={"users": []}),
            "sharing",
        ),
        Case(
            "unknown group access",
            _with(
                collection_wire.EditCollectionBody,
                sharing=lambda ids: {
                    "upsert": {"groups": [{"id": ids["groupId"], "access": "OWNER"}]}
                },
            ),
            "sharing.upsert.groups.0.access",
        ),
    ],
    collection_wire.EditProjectCollectionsBody: [
        Case(
            "unknown access",
            _with(
                collection_wire.EditProjectCollectionsBody,
                sharing=lambda ids: {
                    "upsert": {
                        "collections": [
                            {"collection": {"id": ids["collectionId"]}, "access": "OWNER"}
                        ]
                    }
                },
            ),
            "sharing.upsert.collections.0.access",
        ),
        Case(
            "collection id malformed",
            _with(
                collection_wire.EditProjectCollectionsBody,
                sharing={
                    "upsert": {
                        "collections": [{"collection": {"id": "nope"}, "access": "CAN_VIEW"}]
                    }
                },
            ),
            "sharing.upsert.collections.0.collection.id",
        ),
    ],
    connection_wire.CreateConnectionBody: [
        Case(
            "details under another type",
            _with(
                connection_wire.CreateConnectionBody, connectionDetails={"mysql": {"hostname": "h"}}
            ),
            "connectionDetails",
        ),
        Case(
            "lone surrogate in a secret",
            _with(
                connection_wire.CreateConnectionBody, connectionDetails=postgres_details("\ud800")
            ),
            "connectionDetails",
        ),
        Case(
            "port in words",
            _with(
                connection_wire.CreateConnectionBody,
                connectionDetails=postgres_details(port="five"),
            ),
            "connectionDetails",
        ),
        Case(
            "unknown member access",
            _with(connection_wire.CreateConnectionBody, sharing={"workspace": {"members": "ALL"}}),
            "sharing.workspace.members",
        ),
        Case(
            "unknown public access",
            _with(connection_wire.CreateConnectionBody, sharing={"workspace": {"public": "QUERY"}}),
            "sharing.workspace.public",
        ),
        Case(
            "unknown group access",
            _with(
                connection_wire.CreateConnectionBody,
                sharing=lambda ids: {
                    "groups": [{"group": {"id": ids["groupId"]}, "access": "ADMIN"}]
                },
            ),
            "sharing.groups.0.access",
        ),
        Case(
            "unknown refresh cadence",
            _with(
                connection_wire.CreateConnectionBody,
                schemaRefreshSchedule={"cadence": "YEARLY", "enabled": True},
            ),
            "schemaRefreshSchedule.cadence",
        ),
        Case(
            "unknown refresh zone",
            _with(
                connection_wire.CreateConnectionBody,
                schemaRefreshSchedule={
                    "cadence": "DAILY",
                    "enabled": True,
                    "daily": {"timezoneString": "Nowhere/Land", "hour": 1, "minute": 0},
                },
            ),
            "schemaRefreshSchedule.daily.timezoneString",
        ),
        Case(
            "unknown schema filter match",
            _with(
                connection_wire.CreateConnectionBody,
                schemaFilters={"tables": {"include": {"values": ["a"], "matchType": "FUZZY"}}},
            ),
            "schemaFilters.tables.include.matchType",
        ),
    ],
    connection_wire.EditConnectionBody: [
        Case("name null", _with(connection_wire.EditConnectionBody, name=None), "name"),
        Case("type null", _with(connection_wire.EditConnectionBody, type=None), "type"),
        Case(
            "sharing groups as on create",
            _with(connection_wire.EditConnectionBody, sharing={"groups": []}),
            "sharing.groups",
        ),
        Case(
            "details under another type",
            _with(connection_wire.EditConnectionBody, connectionDetails={"mysql": {"port": 1}}),
            "connectionDetails",
        ),
    ],
    sharing_wire.EditUsersBody: [
        Case(
            "unknown access",
            _with(
                sharing_wire.EditUsersBody,
                sharing=lambda ids: {
                    "upsert": {"users": [{"user": {"id": ids["userId"]}, "access": "OWNER"}]}
                },
            ),
            "sharing.upsert.users.0.access",
        ),
        Case(
            "user id malformed",
            _with(
                sharing_wire.EditUsersBody,
                sharing={"upsert": {"users": [{"user": {"id": "nope"}, "access": "CAN_VIEW"}]}},
            ),
            "sharing.upsert.users.0.user.id",
        ),
        Case(
            "flat user entry",
            _with(
                sharing_wire.EditUsersBody,
                sharing=lambda ids: {
                    "upsert": {"users": [{"id": ids["userId"], "access": "CAN_VIEW"}]}
                },
            ),
            "sharing.upsert.users.0",
        ),
    ],
    sharing_wire.EditGroupsBody: [
        Case(
            "unknown access",
            _with(
                sharing_wire.EditGroupsBody,
                sharing=lambda ids: {
                    "upsert": {"groups": [{"group": {"id": ids["groupId"]}, "access": "ADMIN"}]}
                },
            ),
            "sharing.upsert.groups.0.access",
        ),
        Case(
            "group id malformed",
            _with(
                sharing_wire.EditGroupsBody,
                sharing={"upsert": {"groups": [{"group": {"id": 12}, "access": "CAN_VIEW"}]}},
            ),
            "sharing.upsert.groups.0.group.id",
        ),
    ],
    sharing_wire.EditWorkspaceBody: [
        Case(
            "unknown workspace access",
            _with(sharing_wire.EditWorkspaceBody, sharing={"workspace": "EVERYONE"}),
            "sharing.workspace",
        ),
        Case(
            "unknown public access",
            _with(sharing_wire.EditWorkspaceBody, sharing={"publicWeb": "WORLD"}),
            "sharing.publicWeb",
        ),
        Case(
            "unknown key",
            _with(sharing_wire.EditWorkspaceBody, sharing={"guests": "CAN_VIEW"}),
            "sharing.guests",
        ),
    ],
}


def field_cases(model: type[BaseModel]) -> list[Case]:
    """Each top-level field's bad values, a missing required field, then the nested cases."""
    cases = []
    for name, info in model.model_fields.items():
        for label, value in bad_values(info.annotation, info.metadata):
            cases.append(Case(f"{name}: {label}", _with(model, **{name: value}), name))
        if info.is_required():
            cases.append(Case(f"{name}: missing", _without(model, name), name))
    return cases + NESTED_CASES.get(model, [])


def _without(model: type[BaseModel], name: str) -> Callable[[Ids], dict[str, Any]]:
    return lambda ids: {k: v for k, v in VALID_BODIES[model](ids).items() if k != name}


# -- query strings and headers ---------------------------------------------------------------


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# A cursor that is not one the server made names its parameter (`after`, `before`). A
# well-formed pair is a valid position in a list sorted by a text key (names), so only a
# list sorted by time may refuse "not a sort key"; none may fail on it.
BAD_CURSORS = [
    ("not base64", "!!!", REFUSED),
    ("not a pair", _cursor(["x"]), REFUSED),
    ("not strings", _cursor([1, 2]), REFUSED),
    ("not a sort key", _cursor(["not-a-sort-key", "not-an-id"]), REFUSED | {200}),
]

# Query values checked by the handlers rather than by annotations, by route.
QUERY_CASES: dict[str, list[tuple[dict[str, str], str]]] = {
    "GET /api/v1/audit": [
        ({"since": "yesterday"}, "since"),
        ({"since": "2024-01-01T00:00:00"}, "since"),
        ({"until": "soon"}, "until"),
        ({"actorUserId": "not-a-uuid"}, "actorUserId"),
    ],
    "GET /api/v1/users": [({"userIds": "not-a-uuid"}, "userIds"), ({"userIds[]": "7"}, "userIds")],
    "GET /api/v1/workspace/users": [({"userIds": "not-a-uuid"}, "userIds")],
}


QueryCase = tuple[str, dict[str, str], str | None, set[int]]


def _sendable(value: Any) -> bool:
    """A value a URL or header can carry: text that has a UTF-8 form."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    try:
        str(value).encode()
    except UnicodeEncodeError:
        return False
    return True


def query_cases(route: ApiRoute) -> list[QueryCase]:
    cases: list[QueryCase] = []
    names = {param.alias for param in route.query_params}
    for param in route.query_params:
        alias = param.alias
        if alias in ("after", "before"):
            cases += [
                (f"{alias}: {label}", {alias: value}, None, ok) for label, value, ok in BAD_CURSORS
            ]
            continue
        for label, value in bad_values(param.field_info.annotation, param.field_info.metadata):
            if _sendable(value):
                cases.append((f"{alias}: {label}", {alias: str(value)}, alias, REFUSED))
    if {"after", "before"} <= names:
        both = {"after": _cursor(["a", "b"]), "before": _cursor(["a", "b"])}
        cases.append(("after and before", both, None, REFUSED))
    cases += [
        (f"{params}", params, naming, REFUSED) for params, naming in QUERY_CASES.get(str(route), [])
    ]
    return cases


def header_cases(route: ApiRoute) -> list[tuple[str, dict[str, str], str]]:
    cases = []
    for param in route.header_params:
        for label, value in bad_values(param.field_info.annotation, param.field_info.metadata):
            if _sendable(value) and str(value).strip():
                cases.append((f"{param.alias}: {label}", {param.alias: str(value)}, param.alias))
    return cases


# -- the database, as a fingerprint -----------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def snapshot(engine: sa.Engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its rows, in primary-key order."""
    found = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
            rows = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(json.dumps([_plain(v) for v in row], default=str).encode())
            found[table.name] = (len(rows), digest.hexdigest())
    return found


@dataclass
class Probe:
    """Sends bad requests and collects every way an answer falls short."""

    client: TestClient
    engine: sa.Engine
    baseline: dict[str, tuple[int, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sent: int = 0

    def __post_init__(self) -> None:
        self.baseline = snapshot(self.engine)

    def refused(
        self,
        label: str,
        method: str,
        url: str,
        *,
        naming: str | None = None,
        statuses: set[int] = REFUSED,
        **kwargs: Any,
    ) -> None:
        self.sent += 1
        response = self.client.request(method, url, **kwargs)
        where = f"{method} {url} [{label}] -> {response.status_code}"
        if response.status_code not in statuses:
            self.problems.append(f"{where}: {response.text[:300]}")
        elif response.status_code < 300:
            pass  # a case that may also be read as valid input
        elif not response.headers.get("content-type", "").startswith("application/json"):
            self.problems.append(f"{where}: not JSON: {response.text[:200]}")
        else:
            body = response.json()
            if not isinstance(body, dict) or not body.keys() >= SUPERSET:
                self.problems.append(f"{where}: not the superset error body: {body}")
            elif naming and not _names(body, naming):
                self.problems.append(f"{where}: the error does not name {naming!r}: {body}")
        self.unchanged(where)

    def accepted(self, label: str, method: str, url: str, **kwargs: Any) -> None:
        self.sent += 1
        response = self.client.request(method, url, **kwargs)
        where = f"{method} {url} [{label}] -> {response.status_code}"
        if response.status_code >= 300:
            self.problems.append(f"{where}: refused: {response.text[:300]}")
        self.unchanged(where)

    def unchanged(self, where: str) -> None:
        now = snapshot(self.engine)
        changed = sorted(name for name in now if now[name] != self.baseline.get(name))
        if changed:
            self.problems.append(f"{where}: changed the tables {changed}")
            self.baseline = now  # report each change once

    def check(self) -> None:
        assert self.sent > 0
        assert not self.problems, f"{len(self.problems)} of {self.sent} probes:\n" + "\n".join(
            self.problems
        )


def _names(body: dict[str, Any], field_name: str) -> bool:
    """Whether an issue (or the message) starts with the field's path. Without regard to
    case, for headers: Starlette lowercases their names."""
    texts = [issue.get("message", "") for issue in body.get("issues") or []] + [body["message"]]
    wanted = field_name.lower()
    return any(
        text.lower() == wanted
        or text.lower().startswith((f"{wanted}:", f"{wanted}.", f"{wanted}["))
        for text in texts
    )


@pytest.fixture
def seeded(client: TestClient) -> Ids:
    ids = one_of_everything(client)
    assert set(ids) == SEEDED_IDS
    return ids


@pytest.fixture
def probe(client: TestClient, runtime: Runtime, seeded: Ids) -> Probe:
    return Probe(client, runtime.db.engine)


def example_body(route: ApiRoute, ids: Ids) -> dict[str, Any]:
    model = route.body_model
    assert model is not None
    assert model in VALID_BODIES, f"{route}: add a valid {model.__name__} to VALID_BODIES"
    return VALID_BODIES[model](ids)


def _json(body: Any) -> dict[str, Any]:
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def good_body(route: ApiRoute, ids: Ids) -> dict[str, Any]:
    """Request arguments for a valid body, so that a probe's one flaw is what gets refused."""
    if route.body_model is not None:
        return _json(example_body(route, ids))
    if route.takes_raw_body:
        return {"content": _notebook_text(), "headers": {"Content-Type": "application/json"}}
    return {}


# -- the tests ---------------------------------------------------------------------------------


def test_the_walk_reaches_every_api_route_and_each_can_be_fed(client: TestClient) -> None:
    routes = api_routes(client.app)  # type: ignore[arg-type]
    walked = {str(route) for route in routes}
    documented = {
        f"{method.upper()} {path}"
        for path, item in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in item
        if path.startswith("/api/v1/")
    }
    assert documented - walked == set(), "the walk missed routes the OpenAPI document lists"
    assert len(routes) >= 60
    problems = []
    for route in routes:
        for param in route.path_params:
            if uuid.UUID not in _members(param.field_info.annotation):
                problems.append(f"{route}: {param.name} is not a UUID; say what malformed means")
            if param.name not in SEEDED_IDS:
                problems.append(f"{route}: no seeded id for {param.name} (tests/cast.py)")
        model = route.body_model
        if model is not None:
            if model not in VALID_BODIES:
                problems.append(f"{route}: add a valid {model.__name__} to VALID_BODIES")
            else:
                model.model_validate(
                    VALID_BODIES[model](dict.fromkeys(SEEDED_IDS, str(uuid.uuid4())))
                )
            strict = model.model_config.get("extra") == "forbid"
            if not strict and model not in EXTRA_KEYS_ALLOWED:
                problems.append(f"{route}: {model.__name__} allows unknown keys; say why")
    assert not problems, "\n".join(problems)


def test_malformed_ids_in_paths_are_refused_naming_the_parameter(probe: Probe, seeded: Ids) -> None:
    for route in api_routes(probe.client.app):  # type: ignore[arg-type]
        for param in route.path_params:
            for bad in MALFORMED_IDS:
                url = route.url(seeded, **{param.name: bad})
                probe.refused(
                    f"{param.name}={bad}",
                    route.method,
                    url,
                    naming=param.name,
                    **good_body(route, seeded),
                )
    probe.check()


def test_bad_query_and_header_values_are_refused_naming_them(probe: Probe, seeded: Ids) -> None:
    for route in api_routes(probe.client.app):  # type: ignore[arg-type]
        url = route.url(seeded)
        for label, params, naming, statuses in query_cases(route):
            probe.refused(label, route.method, url, params=params, naming=naming, statuses=statuses)
        for label, headers, naming in header_cases(route):
            extra = good_body(route, seeded)
            merged = {**extra.pop("headers", {}), **headers}
            probe.refused(label, route.method, url, headers=merged, naming=naming, **extra)
    probe.check()


def test_bodies_that_are_not_a_json_object_or_too_large_are_refused(
    probe: Probe, seeded: Ids
) -> None:
    as_json = {"Content-Type": "application/json"}
    for route in api_routes(probe.client.app):  # type: ignore[arg-type]
        if route.body_model is None and not route.takes_raw_body:
            continue
        url = route.url(seeded)
        for label, raw in (
            ("truncated JSON", b'{"name": "x", "title": '),
            ("not JSON", b"name=x&title=y"),
            ("not UTF-8", b'{"name": "\xff\xfe"}'),
            ("an array", b"[]"),
            (
                "an array of the object",
                f"[{good_body(route, seeded).get('content', '{}')}]".encode(),
            ),
            ("a string", b'"text"'),
            ("a number", b"42"),
            ("nested too deep", b"[" * 5_000 + b"]" * 5_000),
        ):
            probe.refused(label, route.method, url, content=raw, headers=as_json)
        if route.takes_raw_body or route.route.body_field.field_info.is_required():
            probe.refused("no body", route.method, url, headers=as_json)
        padded = good_body(route, seeded).get("content", "{}")
        padded += " " * (BODY_LIMIT + 1 - len(padded))
        probe.refused(
            "over the body limit",
            route.method,
            url,
            content=padded,
            headers=as_json,
            statuses={413},
        )
        if route.body_model is not None:
            # FastAPI reads a body as JSON only when it says it is JSON.
            text = good_body(route, seeded)["content"]
            probe.refused(
                "JSON as text/plain",
                route.method,
                url,
                content=text,
                headers={"Content-Type": "text/plain"},
            )
    probe.check()


def test_unknown_top_level_fields_are_refused_where_the_model_is_strict(
    probe: Probe, seeded: Ids
) -> None:
    for route in api_routes(probe.client.app):  # type: ignore[arg-type]
        model = route.body_model
        if model is None:
            continue
        body = {**example_body(route, seeded), "unexpectedField": "x"}
        if model in EXTRA_KEYS_ALLOWED:
            probe.accepted("unknown field ignored", route.method, route.url(seeded), **_json(body))
        else:
            probe.refused(
                "unknown field",
                route.method,
                route.url(seeded),
                naming="unexpectedField",
                **_json(body),
            )
    probe.check()


def test_bad_field_values_are_refused_naming_the_field(probe: Probe, seeded: Ids) -> None:
    for route in api_routes(probe.client.app):  # type: ignore[arg-type]
        model = route.body_model
        if model is None:
            continue
        for case in field_cases(model):
            probe.refused(
                case.label,
                route.method,
                route.url(seeded),
                naming=case.naming,
                **_json(case.body(seeded)),
            )
    probe.check()


def test_an_unknown_sort_of_collections_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/collections", params={"sortBy": "NOT_A_REAL_VALUE"})
    assert response.status_code == 400 and _names(response.json(), "sortBy")
