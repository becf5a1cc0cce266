"""The permission matrix: every /api/v1 route x every kind of caller -> the status the rules say.

`MATRIX` states, for each route the app serves, who may use it: the least role a personal
token's user needs, the scopes a workspace token needs, and the access to the project it
needs when the route is about one project. The rules are written out here from the product's
spec, not computed from `runyard.domain.permissions`, so the test can disagree with the code.

- `test_every_route_is_in_the_matrix`: the app's routes and the table's keys are the same
  set, so a new route without a rule fails the suite, and so does a rule for a route gone.
- `test_a_caller_gets_what_the_rule_says`: per route, a personal token of each role (whose
  user holds FULL_ACCESS on the project, so the role decides), a workspace token with exactly
  the needed scopes, one with every scope but each needed one, no token, a malformed one, a
  revoked one and an expired one: success, 403, or 401.
- `test_project_access_decides_on_project_routes`: per project route, users of a role that
  suffices, holding no access (404: the project is hidden) or each weaker level (403 below
  the rule's level).
- Beside the matrix, what status codes cannot show: who sees which projects, tokens and data
  connections, and how much of a connection a non-admin sees.

Destructive routes act on a fresh object per request (a fresh PENDING run for CancelRun, so
it answers 204, never the 422 of a finished run). RunProject starts real runs: they wait
PENDING behind the run that holds the world's only kernel slot (see `matrix_cast`).

Where the code disagrees with the spec, the cell is marked `xfail(strict=True)` in
`KNOWN_GAPS` with the reason, so the suite documents it and notices when it is fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, routing

from tests.api.matrix_cast import (
    ALL_SCOPES,
    CEILING,
    PROJECT_NOTEBOOK,
    ROLES,
    TABLE_CELL,
    WEAKER_LEVELS,
    Target,
    World,
    built_world,
    cells_query,
    constant,
    fresh_cell,
    fresh_connection,
    fresh_deactivated_user,
    fresh_group,
    fresh_others_token,
    fresh_own_token,
    fresh_pending_run,
    fresh_schedule,
    fresh_user,
    fresh_view,
    level_at_least,
    named,
    new_cell_body,
    new_connection_body,
    new_user_body,
    new_view_body,
    paused_schedule,
    role_at_least,
    share_into_vault,
    share_with_bystander,
    share_with_bystander_group,
)
from tests.cast import bearer, new_connection, new_group, new_user, personal_token

pytestmark = pytest.mark.kernel  # the world runs two real notebooks

Builder = Callable[[World, Target], Any]


@dataclass(frozen=True)
class Rule:
    """Who may use a route, and what it answers when they may.

    `least_role`: the weakest role whose personal token may (roles rank ADMIN > MANAGER >
    EDITOR > EXPLORER > MEMBER > GUEST). `scopes`: every scope a workspace token needs (its
    user, the bootstrap admin, has every right a role can give). `level`: the access to the
    project the route needs, for routes about one project. `below_role`: what a role below
    `least_role` gets: 403, or 404 where the target is hidden from them.
    """

    success: int
    least_role: str = "GUEST"
    scopes: tuple[str, ...] = ()
    level: str | None = None
    below_role: int = 403

    def for_personal(self, role: str) -> int:
        if not role_at_least(role, self.least_role):
            return self.below_role
        # The role caps the FULL_ACCESS every test user holds on the project.
        if self.level is not None and not level_at_least(CEILING[role], self.level):
            return 403
        return self.success

    def for_workspace(self, scopes: frozenset[str]) -> int:
        return self.success if set(self.scopes) <= scopes else 403


@dataclass(frozen=True)
class Case:
    """One way to call a route: its rule, its body, and the fresh objects it acts on.

    `fresh` returns path parameters to fill with new objects (one per request) instead of the
    world's standing ones; `query` the query string, where a route needs one; `label` tells
    apart the cases of a route whose rule depends on the request (POST /tokens for oneself,
    for another user, or a workspace token).
    """

    rule: Rule
    body: Builder | None = None
    fresh: Builder | None = None
    label: str = ""
    query: Builder | None = None


Route = tuple[str, str]

READ = ("projects:read",)
WRITE = ("projects:write",)
RUN = ("projects:run",)

P = "/api/v1/projects/{projectId}"
LEGACY = "/api/v1/project/{projectId}"
SCHEDULE = P + "/schedules/{scheduleId}"
VIEW = P + "/views/{viewId}"
CELL = "/api/v1/cells/{cellId}"

MATRIX: dict[Route, tuple[Case, ...]] = {
    # -- projects --------------------------------------------------------------------------
    ("GET", "/api/v1/projects"): (Case(Rule(200, "GUEST", READ)),),
    ("POST", "/api/v1/projects"): (
        Case(Rule(201, "EDITOR", WRITE), body=constant({"title": "Made by the matrix"})),
    ),
    ("POST", "/api/v1/projects/import"): (
        Case(Rule(201, "EDITOR", WRITE), body=constant(PROJECT_NOTEBOOK)),
    ),
    ("GET", P): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("PATCH", P): (Case(Rule(200, "EDITOR", WRITE, "CAN_EDIT"), body=constant({"status": "Ok"})),),
    ("PUT", P + "/notebook"): (
        Case(Rule(200, "EDITOR", WRITE, "CAN_EDIT"), body=constant(PROJECT_NOTEBOOK)),
    ),
    ("GET", P + "/notebook"): (Case(Rule(200, "EXPLORER", READ, "CAN_VIEW")),),
    ("POST", P + "/publish"): (Case(Rule(201, "EDITOR", WRITE, "CAN_EDIT")),),
    # -- runs, under both path families --------------------------------------------------------
    # Updating what the app's viewers see is an edit (Hex: "Can Edit"), whichever flag asks.
    ("POST", P + "/runs"): (
        Case(Rule(201, "GUEST", RUN, "APP_ONLY")),
        Case(
            Rule(201, "EDITOR", (*RUN, *WRITE), "CAN_EDIT"),
            body=constant({"updatePublishedResults": True}),
            label="updating the published results",
        ),
    ),
    ("POST", LEGACY + "/run"): (
        Case(Rule(201, "GUEST", RUN, "APP_ONLY")),
        Case(
            Rule(201, "EDITOR", (*RUN, *WRITE), "CAN_EDIT"),
            body=constant({"updateCache": True}),
            label="updating the published results",
        ),
    ),
    ("GET", P + "/publishedRun"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    # -- saved views: app viewers list and run them, editors keep them ---------------------------
    ("GET", P + "/views"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("POST", P + "/views"): (Case(Rule(201, "EDITOR", WRITE, "CAN_EDIT"), body=new_view_body),),
    ("GET", VIEW): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("PATCH", VIEW): (Case(Rule(200, "EDITOR", WRITE, "CAN_EDIT"), body=named("Renamed view")),),
    ("DELETE", VIEW): (Case(Rule(204, "EDITOR", WRITE, "CAN_EDIT"), fresh=fresh_view),),
    ("GET", P + "/runs"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("GET", LEGACY + "/runs"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("GET", P + "/runs/{runId}"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("GET", LEGACY + "/run/{runId}"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("DELETE", P + "/runs/{runId}"): (
        Case(Rule(204, "GUEST", RUN, "APP_ONLY"), fresh=fresh_pending_run),
    ),
    ("DELETE", LEGACY + "/run/{runId}"): (
        Case(Rule(204, "GUEST", RUN, "APP_ONLY"), fresh=fresh_pending_run),
    ),
    ("GET", P + "/runs/{runId}/log"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("GET", P + "/runs/{runId}/notebook"): (Case(Rule(200, "EXPLORER", READ, "CAN_VIEW")),),
    # App viewers get the outputs alone; explorers the whole notebook (test_project_visibility).
    ("GET", P + "/runs/{runId}/html"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    # -- schedules -----------------------------------------------------------------------------
    ("GET", P + "/schedules"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("POST", P + "/schedules"): (
        Case(Rule(201, "EDITOR", WRITE, "CAN_EDIT"), body=constant(paused_schedule())),
    ),
    ("GET", SCHEDULE): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("PATCH", SCHEDULE): (
        Case(Rule(200, "EDITOR", WRITE, "CAN_EDIT"), body=constant({"enabled": False})),
    ),
    ("DELETE", SCHEDULE): (Case(Rule(204, "EDITOR", WRITE, "CAN_EDIT"), fresh=fresh_schedule),),
    ("GET", SCHEDULE + "/skipped-slots"): (Case(Rule(200, "GUEST", READ, "APP_ONLY")),),
    ("GET", P + "/queriedTables"): (
        Case(Rule(200, "EXPLORER", ("projects:read_queried_tables",), "CAN_VIEW")),
    ),
    # Embedding shows the app to anyone holding the URL: it takes what sharing takes.
    ("POST", "/api/v1/embedding/createPresignedUrl/{projectId}"): (
        Case(Rule(200, "EDITOR", WRITE, "FULL_ACCESS"), body=constant({"testMode": True})),
    ),
    # -- cells: Hex's cells API over the draft notebook ----------------------------------------
    ("GET", "/api/v1/cells"): (
        Case(Rule(200, "EXPLORER", ("cells:read",), "CAN_VIEW"), query=cells_query),
    ),
    ("POST", "/api/v1/cells"): (
        Case(Rule(200, "EDITOR", ("cells:write",), "CAN_EDIT"), body=new_cell_body),
    ),
    ("GET", CELL): (Case(Rule(200, "EXPLORER", ("cells:read",), "CAN_VIEW")),),
    ("PATCH", CELL): (
        Case(
            Rule(200, "EDITOR", ("cells:write",), "CAN_EDIT"),
            body=constant({"contents": {"codeCell": {"source": TABLE_CELL}}}),
        ),
    ),
    ("DELETE", CELL): (Case(Rule(200, "EDITOR", ("cells:write",), "CAN_EDIT"), fresh=fresh_cell),),
    ("GET", CELL + "/output"): (Case(Rule(200, "EXPLORER", ("cells:read",), "CAN_VIEW")),),
    # -- project sharing -----------------------------------------------------------------------
    ("PATCH", P + "/sharing/users"): (
        Case(Rule(200, "EDITOR", WRITE, "FULL_ACCESS"), body=share_with_bystander),
    ),
    ("PATCH", P + "/sharing/groups"): (
        Case(Rule(200, "EDITOR", WRITE, "FULL_ACCESS"), body=share_with_bystander_group),
    ),
    ("PATCH", P + "/sharing/workspaceAndPublic"): (
        # NONE keeps the workspace from granting the access-level test's users anything.
        Case(
            Rule(200, "EDITOR", WRITE, "FULL_ACCESS"),
            body=constant({"sharing": {"workspace": "NONE"}}),
        ),
    ),
    ("PATCH", P + "/sharing/collections"): (
        Case(
            Rule(200, "MANAGER", ("collections:write", "projects:write"), "FULL_ACCESS"),
            body=share_into_vault,
        ),
    ),
    # -- users ---------------------------------------------------------------------------------
    ("GET", "/api/v1/users"): (Case(Rule(200, "MEMBER", ("users:read",))),),
    ("GET", "/api/v1/workspace/users"): (Case(Rule(200, "MEMBER", ("users:read",))),),
    ("POST", "/api/v1/users"): (Case(Rule(201, "ADMIN", ("users:write",)), body=new_user_body),),
    # Any valid token may ask who it is (UserService.me checks nothing: the answer holds only
    # what the token already knows), whatever its user's role and with no scope at all.
    ("GET", "/api/v1/users/me"): (Case(Rule(200, "GUEST", ())),),
    ("PATCH", "/api/v1/users/{userId}"): (
        Case(Rule(200, "ADMIN", ("users:write",)), body=constant({"name": "Bystander"})),
    ),
    ("POST", "/api/v1/users/{userId}/deactivate"): (
        Case(Rule(200, "ADMIN", ("users:write",)), fresh=fresh_user),
    ),
    ("POST", "/api/v1/users/{userId}/reactivate"): (
        Case(Rule(200, "ADMIN", ("users:write",)), fresh=fresh_deactivated_user),
    ),
    # -- tokens (services/tokens.py) ------------------------------------------------------------
    # Editors and above create personal tokens for themselves; a workspace token minting an
    # unscoped personal token is administration (users:write). Tokens for another user and
    # workspace tokens are for admins. Everyone lists and revokes their own tokens; admins
    # (and workspace tokens with users:write) every token; another user's token is hidden.
    ("POST", "/api/v1/tokens"): (
        Case(
            Rule(201, "EDITOR", ("users:write",)),
            body=constant({"type": "PERSONAL"}),
            label="personal, for oneself",
        ),
        Case(
            Rule(201, "ADMIN", ("users:write",)),
            body=lambda world, _t: {"type": "PERSONAL", "userId": world.ids["userId"]},
            label="personal, for another user",
        ),
        Case(
            Rule(201, "ADMIN", ("users:write",)),
            body=constant({"type": "WORKSPACE", "scopes": []}),
            label="workspace",
        ),
    ),
    ("GET", "/api/v1/tokens"): (Case(Rule(200, "GUEST", ("users:write",))),),
    ("DELETE", "/api/v1/tokens/{tokenId}"): (
        Case(Rule(204, "GUEST", ("users:write",)), fresh=fresh_own_token, label="own token"),
        Case(
            Rule(204, "ADMIN", ("users:write",), below_role=404),
            fresh=fresh_others_token,
            label="another user's token",
        ),
    ),
    # -- collections ---------------------------------------------------------------------------
    ("GET", "/api/v1/collections"): (Case(Rule(200, "GUEST", ("collections:read",))),),
    ("POST", "/api/v1/collections"): (
        Case(Rule(201, "MANAGER", ("collections:write",)), body=named("Collection")),
    ),
    ("GET", "/api/v1/collections/{collectionId}"): (
        Case(Rule(200, "GUEST", ("collections:read",))),
    ),
    ("PATCH", "/api/v1/collections/{collectionId}"): (
        Case(Rule(200, "MANAGER", ("collections:write",)), body=constant({"description": "Ok"})),
    ),
    # -- audit ---------------------------------------------------------------------------------
    ("GET", "/api/v1/audit"): (Case(Rule(200, "ADMIN", ("users:read",))),),
}

# Groups and data connections are served under Hex's paths and the seed document's aliases.
for _groups in ("/api/v1/groups", "/api/v1/workspace/groups"):
    _group = _groups + "/{groupId}"
    MATRIX |= {
        ("GET", _groups): (Case(Rule(200, "MEMBER", ("groups:read",))),),
        ("POST", _groups): (Case(Rule(201, "MANAGER", ("groups:write",)), body=named("Group")),),
        ("GET", _group): (Case(Rule(200, "MEMBER", ("groups:read",))),),
        ("PATCH", _group): (
            Case(Rule(200, "MANAGER", ("groups:write",)), body=named("Bystanders")),
        ),
        ("DELETE", _group): (Case(Rule(204, "MANAGER", ("groups:write",)), fresh=fresh_group),),
        ("GET", _group + "/members"): (Case(Rule(200, "MEMBER", ("groups:read",))),),
    }
for _connections in ("/api/v1/data-connections", "/api/v1/workspace/connections"):
    _connection = _connections + "/{dataConnectionId}"
    # Everyone lists and reads the connections shared with them (the world's connection is
    # shared with members and guests); only admins change them.
    MATRIX |= {
        ("GET", _connections): (Case(Rule(200, "GUEST", ("connections:read",))),),
        ("POST", _connections): (
            Case(Rule(201, "ADMIN", ("connections:write",)), body=new_connection_body),
        ),
        ("GET", _connection): (Case(Rule(200, "GUEST", ("connections:read",))),),
        # 201, not 200: Hex's spec lists EditDataConnection's success as 201.
        ("PATCH", _connection): (
            Case(Rule(201, "ADMIN", ("connections:write",)), body=constant({"description": "Ok"})),
        ),
        ("DELETE", _connection): (
            Case(Rule(204, "ADMIN", ("connections:write",)), fresh=fresh_connection),
        ),
    }


# -- the cells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One kind of caller: a personal token of a role, a workspace token with some scopes, or
    a credential that must be refused (none, malformed, revoked, expired)."""

    label: str
    credential: str
    role: str = ""
    scopes: frozenset[str] = frozenset()

    def expected(self, rule: Rule) -> int:
        if self.credential == "personal":
            return rule.for_personal(self.role)
        if self.credential == "workspace":
            return rule.for_workspace(self.scopes)
        return 401


REFUSED_CREDENTIALS = (
    Cell("no Authorization header", "none"),
    Cell("a malformed token", "malformed"),
    Cell("a revoked token", "revoked"),
    Cell("an expired token", "expired"),
)


def cells(rule: Rule) -> list[Cell]:
    exact = ", ".join(rule.scopes) or "no scope"
    return [
        *(Cell(f"a {role}'s personal token", "personal", role=role) for role in ROLES),
        Cell(f"a workspace token with {exact}", "workspace", scopes=frozenset(rule.scopes)),
        *(
            Cell(
                f"a workspace token with every scope but {missing}",
                "workspace",
                scopes=frozenset(ALL_SCOPES) - {missing},
            )
            for missing in rule.scopes
        ),
        *REFUSED_CREDENTIALS,
    ]


def route_name(route: Route, case: Case) -> str:
    method, path = route
    return f"{method} {path}" + (f" ({case.label})" if case.label else "")


# Where the code disagrees with the spec, by test id: the reason. Each is a strict xfail, so
# a fix makes the suite say so.
KNOWN_GAPS: dict[str, str] = {}


def _params() -> Iterator[Any]:
    for route, route_cases in MATRIX.items():
        for case in route_cases:
            for cell in cells(case.rule):
                name = f"{route_name(route, case)} as {cell.label}"
                gap = KNOWN_GAPS.get(name)
                marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
                yield pytest.param(route, case, cell, id=name, marks=marks)


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One workspace for the module, on SQLite only: the rules live above the store, and the
    suite's other tests cover both databases."""
    with built_world(sqlite_template, tmp_path_factory.mktemp("matrix")) as built:
        yield built


def credentials(world: World, cell: Cell) -> tuple[dict[str, str], Target]:
    """The request's headers for this kind of caller, and who the caller is."""
    if cell.credential == "personal":
        member = world.members[cell.role]
        return bearer(member.token), Target(member.user_id)
    if cell.credential == "workspace":
        return bearer(world.workspace_token(cell.scopes)), Target(world.admin_id)
    if cell.credential == "malformed":
        return {"Authorization": "Bearer not-a-runyard-token"}, Target(world.admin_id)
    if cell.credential == "revoked":
        return bearer(world.revoked_token), Target(world.admin_id)
    if cell.credential == "expired":
        return bearer(world.expired_token), Target(world.members["ADMIN"].user_id)
    return {}, Target(world.admin_id)


def send(
    world: World, route: Route, case: Case, headers: dict[str, str], target: Target
) -> httpx.Response:
    method, template = route
    ids = dict(world.ids)
    if case.fresh is not None:
        ids |= case.fresh(world, target)
    body = case.body(world, target) if case.body is not None else None
    query = case.query(world, target) if case.query is not None else None
    return world.bare.request(
        method, template.format(**ids), json=body, headers=headers, params=query
    )


ERROR_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND"}


def assert_answers(response: httpx.Response, expected: int, who: str) -> None:
    assert response.status_code == expected, (
        f"{who}: expected {expected}, got {response.status_code}: {response.text[:300]}"
    )
    if expected >= 400:
        body = response.json()
        missing = {"code", "message", "issues", "reason", "details", "traceId"} - set(body)
        assert not missing, f"{who}: error body lacks {missing}: {body}"
        assert body["code"] == ERROR_CODES[expected], body


# -- the tests --------------------------------------------------------------------------------


def api_routes(app: FastAPI) -> set[Route]:
    """Every (method, path template) the app serves under /api/v1, hidden ones included.

    `routing.iter_route_contexts` is what FastAPI's own OpenAPI generator walks: it flattens
    included routers (FastAPI 0.165 keeps them nested in `app.routes`), and unlike the
    OpenAPI document it keeps routes declared with `include_in_schema=False`.
    """
    found: set[Route] = set()
    for route in routing.iter_route_contexts(app.routes):
        path = route.path_format
        if path is None or not path.startswith("/api/v1/"):
            continue
        found |= {(method, path) for method in route.methods or () if method != "HEAD"}
    return found


def test_the_route_walk_finds_nested_and_hidden_routes() -> None:
    inner = APIRouter()
    inner.add_api_route("/hidden", lambda: None, methods=["POST"], include_in_schema=False)
    outer = APIRouter()
    outer.add_api_route("/shown", lambda: None, methods=["GET"])
    outer.include_router(inner, prefix="/inner")
    app = FastAPI()
    app.include_router(outer, prefix="/api/v1")
    assert api_routes(app) == {("GET", "/api/v1/shown"), ("POST", "/api/v1/inner/hidden")}


def test_every_route_is_in_the_matrix(world: World) -> None:
    served = api_routes(world.app)
    documented = {
        (method.upper(), path)
        for path, item in world.app.openapi()["paths"].items()
        for method in item
        if path.startswith("/api/v1/")
    }
    assert documented <= served, f"the route walk missed {documented - served}"
    assert sorted(served - MATRIX.keys()) == [], "routes without a rule"
    assert sorted(MATRIX.keys() - served) == [], "rules for routes the app does not serve"


def test_each_refused_credential_is_refused_for_its_own_reason(world: World) -> None:
    """The 401 columns test what they claim: the revoked token is refused as revoked, the
    expired one as expired (not, say, as unknown)."""
    expectations = {
        "no Authorization header": "Authorization not provided",
        "a malformed token": "Invalid token",
        "a revoked token": "Token has been revoked",
        "an expired token": "Token has expired",
    }
    for cell in REFUSED_CREDENTIALS:
        headers, _ = credentials(world, cell)
        response = world.bare.get("/api/v1/users/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"] == expectations[cell.label], cell.label


def test_every_known_gap_names_a_cell() -> None:
    names = {p.id for p in _params()} | {p.id for p in _project_params()}
    assert sorted(KNOWN_GAPS.keys() - names) == []


@pytest.mark.parametrize(("route", "case", "cell"), list(_params()))
def test_a_caller_gets_what_the_rule_says(
    world: World, route: Route, case: Case, cell: Cell
) -> None:
    headers, target = credentials(world, cell)
    response = send(world, route, case, headers, target)
    assert_answers(response, cell.expected(case.rule), f"{route_name(route, case)} as {cell.label}")


def _project_params() -> Iterator[Any]:
    for route, route_cases in MATRIX.items():
        for case in route_cases:
            if case.rule.level is None:
                continue
            for access in WEAKER_LEVELS:
                name = f"{route_name(route, case)} with {access}"
                gap = KNOWN_GAPS.get(name)
                marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
                yield pytest.param(route, case, access, id=name, marks=marks)


@pytest.mark.parametrize(("route", "case", "access"), list(_project_params()))
def test_project_access_decides_on_project_routes(
    world: World, route: Route, case: Case, access: str
) -> None:
    rule = case.rule
    assert rule.level is not None
    # A role that passes the role check, so that only the access to the project decides.
    role = "MANAGER" if rule.least_role == "MANAGER" else "EDITOR"
    assert role_at_least(role, rule.least_role)
    member = world.graded[(role, access)]
    if access == "NONE":
        expected = 404  # hidden, so that its existence does not leak
    elif level_at_least(access, rule.level):
        expected = rule.success
    else:
        expected = 403
    response = send(world, route, case, bearer(member.token), Target(member.user_id))
    assert_answers(response, expected, f"{route_name(route, case)}, {role} with {access}")


def test_list_projects_shows_only_the_projects_someone_may_see(world: World) -> None:
    project_id = world.ids["projectId"]
    for access in WEAKER_LEVELS:
        member = world.graded[("EDITOR", access)]
        listed = world.bare.get("/api/v1/projects", headers=bearer(member.token))
        assert listed.status_code == 200, listed.text
        ids = [p["id"] for p in listed.json()["values"]]
        assert (project_id in ids) is (access != "NONE"), access


def test_an_admin_has_full_access_to_a_project_nobody_shared_with_them(world: World) -> None:
    admin_id: str = new_user(world.admin, f"admin-{world.serial()}@example.com", "ADMIN")["id"]
    headers = bearer(personal_token(world.admin, admin_id))
    project = f"/api/v1/projects/{world.ids['projectId']}"
    assert world.bare.get(project, headers=headers).status_code == 200
    shared = world.bare.patch(
        f"{project}/sharing/users",
        json=share_with_bystander(world, Target(admin_id)),
        headers=headers,
    )
    assert shared.status_code == 200, shared.text


def test_non_admins_list_only_their_own_tokens_and_admins_every_token(world: World) -> None:
    def owners(headers: dict[str, str]) -> set[str]:
        listed = world.bare.get("/api/v1/tokens", params={"limit": 100}, headers=headers)
        assert listed.status_code == 200, listed.text
        return {token["user"]["id"] for token in listed.json()["values"]}

    guest = world.members["GUEST"]
    assert owners(bearer(guest.token)) == {guest.user_id}
    everyone = owners(bearer(world.members["ADMIN"].token))
    assert {guest.user_id, world.admin_id, world.members["EDITOR"].user_id} <= everyone


# -- data connections: who sees which, and how much --------------------------------------------

BASIC_CONNECTION_KEYS = {"id", "name", "type", "description"}


def _connection_ids(world: World, headers: dict[str, str]) -> set[str]:
    listed = world.bare.get("/api/v1/data-connections", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    return {c["id"] for c in listed.json()["values"]}


def test_a_connection_shared_with_nobody_is_missing_for_everyone_but_admins(
    world: World,
) -> None:
    hidden: str = new_connection(
        world.admin,
        f"Unshared {world.serial()}",
        sharing={"workspace": {"members": "NONE", "guests": "NONE"}},
    )["id"]
    for role in ROLES[1:]:
        headers = bearer(world.members[role].token)
        response = world.bare.get(f"/api/v1/data-connections/{hidden}", headers=headers)
        assert_answers(response, 404, f"a {role}")
        assert hidden not in _connection_ids(world, headers), role
    for headers in (
        bearer(world.members["ADMIN"].token),
        bearer(world.workspace_token(frozenset({"connections:read"}))),
    ):
        response = world.bare.get(f"/api/v1/data-connections/{hidden}", headers=headers)
        assert response.status_code == 200 and "connectionDetails" in response.json()
        assert hidden in _connection_ids(world, headers)


def test_non_admins_see_the_basic_shape_of_a_connection_and_admins_all_of_it(
    world: World,
) -> None:
    shared = world.ids["dataConnectionId"]
    for role in ROLES[1:]:
        headers = bearer(world.members[role].token)
        got = world.bare.get(f"/api/v1/data-connections/{shared}", headers=headers).json()
        assert {"id", "name", "type"} <= set(got) <= BASIC_CONNECTION_KEYS, (role, got)
        listed = world.bare.get("/api/v1/data-connections", headers=headers).json()["values"]
        assert all(set(c) <= BASIC_CONNECTION_KEYS for c in listed), (role, listed)
    for headers in (
        bearer(world.members["ADMIN"].token),
        bearer(world.workspace_token(frozenset({"connections:read"}))),
    ):
        got = world.bare.get(f"/api/v1/data-connections/{shared}", headers=headers).json()
        assert {"connectionDetails", "sharing"} <= set(got), got


def test_workspace_grants_reach_members_but_not_guests_and_group_grants_reach_the_group(
    world: World,
) -> None:
    guest = world.members["GUEST"]
    members_only: str = new_connection(
        world.admin,
        f"Members only {world.serial()}",
        sharing={"workspace": {"members": "QUERY", "guests": "NONE"}},
    )["id"]
    group_id = new_group(world.admin, f"Guests with a grant {world.serial()}", [guest.user_id])
    through_group: str = new_connection(
        world.admin,
        f"Through a group {world.serial()}",
        sharing={
            "workspace": {"members": "NONE", "guests": "NONE"},
            "groups": [{"group": {"id": group_id}, "access": "QUERY"}],
        },
    )["id"]
    seen = {
        role: {
            connection: world.bare.get(
                f"/api/v1/data-connections/{connection}",
                headers=bearer(world.members[role].token),
            ).status_code
            for connection in (members_only, through_group)
        }
        for role in ("MEMBER", "GUEST")
    }
    assert seen == {
        "MEMBER": {members_only: 200, through_group: 404},
        "GUEST": {members_only: 404, through_group: 200},
    }
