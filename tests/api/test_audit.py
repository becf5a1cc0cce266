"""GET /api/v1/audit (a Runyard extension): admin changes and run triggers/cancels, recorded
with actor, target and the trace id of the request that made them, and never a secret."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from runyard.app import Runtime
from runyard.store.audit import AuditEventRow
from tests.cast import (
    bearer,
    new_user,
    notebook,
    personal_token,
    postgres_details,
    published_project,
    workspace_token,
)

CONNECTION_SECRET = "audit-known-secret-7f3a9c"
ADMIN_EMAIL = "admin@runyard.local"


def events(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    values: list[dict[str, Any]] = response.json()["values"]
    return values


def only(client: TestClient, action: str) -> dict[str, Any]:
    found = [e for e in events(client, action=action) if e["action"] == action]
    assert len(found) == 1, found
    return found[0]


def admin_me(client: TestClient) -> dict[str, Any]:
    me: dict[str, Any] = client.get("/api/v1/users", params={"sortBy": "EMAIL"}).json()
    return next(u for u in me["values"] if u["email"] == ADMIN_EMAIL)


def dump(runtime: Runtime) -> str:
    with runtime.db.read() as session:
        rows = session.scalars(select(AuditEventRow)).all()
        return json.dumps(
            [
                {c.name: str(getattr(r, c.name)) for c in AuditEventRow.__table__.columns}
                for r in rows
            ]
        )


def test_changes_are_recorded_with_actor_target_and_their_requests_trace_id(
    client: TestClient,
) -> None:
    admin = admin_me(client)
    project_id = published_project(client, notebook("import time\ntime.sleep(120)"))
    triggered = client.post(f"/api/v1/projects/{project_id}/runs", json={})
    assert triggered.status_code == 201, triggered.text
    run_id = triggered.json()["runId"]
    cancelled = client.delete(f"/api/v1/projects/{project_id}/runs/{run_id}")
    assert cancelled.status_code == 204
    bob = client.post("/api/v1/users", json={"email": "bob@example.com", "role": "EDITOR"})
    deactivated = client.post(f"/api/v1/users/{bob.json()['id']}/deactivate")
    connection = client.post(
        "/api/v1/data-connections",
        json={
            "name": "Warehouse",
            "type": "postgres",
            "connectionDetails": postgres_details(CONNECTION_SECRET),
        },
    )
    assert connection.status_code == 201, connection.text
    token = client.post("/api/v1/tokens", json={"type": "WORKSPACE", "scopes": ["users:read"]})
    assert token.status_code == 201, token.text

    expected = [
        ("run.trigger", "run", run_id, triggered),
        ("run.cancel", "run", run_id, cancelled),
        ("user.create", "user", bob.json()["id"], bob),
        ("user.deactivate", "user", bob.json()["id"], deactivated),
        ("connection.create", "connection", connection.json()["id"], connection),
        ("token.create", "token", token.json()["id"], token),
    ]
    for action, target_type, target_id, response in expected:
        event = only(client, action)
        assert event["target"] == {"type": target_type, "id": target_id}, action
        assert event["traceId"] == response.headers["x-trace-id"], action
        assert event["actor"]["userId"] == admin["id"]
        assert event["actor"]["email"] == ADMIN_EMAIL
        assert event["actor"]["tokenId"] is not None
        assert event["at"].endswith("Z")
    assert only(client, "connection.create")["details"] == {"name": "Warehouse", "type": "postgres"}
    token_details = only(client, "token.create")["details"]
    assert token_details["type"] == "WORKSPACE" and token_details["scopes"] == ["users:read"]
    assert only(client, "run.trigger")["details"]["projectId"] == project_id
    # Newest first.
    actions = [e["action"] for e in events(client)]
    assert actions.index("token.create") < actions.index("run.trigger")


def test_no_secret_reaches_the_audit_table_or_its_answer(
    client: TestClient, runtime: Runtime
) -> None:
    created = client.post(
        "/api/v1/data-connections",
        json={
            "name": "Warehouse",
            "type": "postgres",
            "connectionDetails": postgres_details(CONNECTION_SECRET),
        },
    ).json()
    edited = client.patch(
        f"/api/v1/data-connections/{created['id']}",
        json={"connectionDetails": postgres_details(CONNECTION_SECRET + "-2")},
    )
    assert edited.status_code == 201, edited.text  # Hex answers an edit with 201
    secret = client.post(
        "/api/v1/tokens", json={"type": "WORKSPACE", "scopes": ["users:read"]}
    ).json()["token"]
    table = dump(runtime)
    answer = client.get("/api/v1/audit", params={"limit": 500}).text
    assert "connection.update" in answer and "token.create" in answer
    for text in (table, answer):
        assert CONNECTION_SECRET not in text
        assert secret not in text
        assert secret.split("_", 1)[1] not in text


def test_a_change_that_fails_records_nothing(client: TestClient, runtime: Runtime) -> None:
    new_user(client, "bob@example.com")
    before = events(client)
    bad = client.post("/api/v1/users", json={"email": "carol@example.com", "role": "WIZARD"})
    assert bad.status_code == 400
    taken = client.post("/api/v1/users", json={"email": "bob@example.com", "role": "EDITOR"})
    assert taken.status_code == 409
    assert events(client) == before
    assert dump(runtime).count("user.create") == 1


def test_filters_narrow_by_action_prefix_actor_target_and_time(client: TestClient) -> None:
    bob = new_user(client, "bob@example.com")
    carol = new_user(client, "carol@example.com", "ADMIN")
    client.post(f"/api/v1/users/{bob['id']}/deactivate")
    client.post("/api/v1/groups", json={"name": "Analysts"})
    assert {e["action"] for e in events(client, action="user.")} == {
        "user.create",
        "user.deactivate",
    }
    assert events(client, action="user_") == []
    on_bob = events(client, targetType="user", targetId=bob["id"])
    assert [e["action"] for e in on_bob] == ["user.deactivate", "user.create"]
    # Carol, an admin, changes something through her own token: filter by actor.
    carol_token = personal_token(client, carol["id"])
    renamed = client.patch(
        f"/api/v1/users/{bob['id']}", json={"name": "Robert"}, headers=bearer(carol_token)
    )
    assert renamed.status_code == 200, renamed.text
    by_carol = events(client, actorUserId=carol["id"])
    assert [e["action"] for e in by_carol] == ["user.update"]
    assert by_carol[0]["details"]["fields"] == ["name"]
    everything = events(client)
    middle = everything[len(everything) // 2]["at"]
    newer = events(client, since=middle)
    older = events(client, until=middle)
    assert len(newer) + len(older) == len(everything)
    assert all(e["at"] >= middle for e in newer) and all(e["at"] < middle for e in older)


def test_bad_filters_and_limits_are_400(client: TestClient) -> None:
    for params in (
        {"since": "yesterday"},
        {"until": "2026-01-01T00:00:00"},  # no time zone
        {"actorUserId": "not-a-uuid"},
        {"limit": 0},
        {"limit": 501},
        {"after": "%%%"},
    ):
        response = client.get("/api/v1/audit", params=params)
        assert response.status_code == 400, (params, response.text)
    assert client.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00Z"}).status_code == 200


def test_pages_walk_newest_first_with_after_and_before(client: TestClient) -> None:
    for n in range(5):
        new_user(client, f"user{n}@example.com")
    first = client.get("/api/v1/audit", params={"limit": 2, "action": "user."}).json()
    emails = [e["details"] for e in first["values"]]
    assert len(emails) == 2 and first["pagination"]["before"] is None
    seen = [e["id"] for e in first["values"]]
    page = first
    while page["pagination"]["after"]:
        page = client.get(
            "/api/v1/audit",
            params={"limit": 2, "action": "user.", "after": page["pagination"]["after"]},
        ).json()
        seen += [e["id"] for e in page["values"]]
    assert seen == [e["id"] for e in events(client, action="user.")]
    assert len(seen) == 5
    back = client.get(
        "/api/v1/audit",
        params={"limit": 2, "action": "user.", "before": page["pagination"]["before"]},
    ).json()
    assert [e["id"] for e in back["values"]] == seen[2:4]


def test_only_admins_may_read_it(client: TestClient) -> None:
    for role in ("MANAGER", "EDITOR", "MEMBER"):
        user = new_user(client, f"{role.lower()}@example.com", role)
        token = personal_token(client, user["id"])
        response = client.get("/api/v1/audit", headers=bearer(token))
        assert response.status_code == 403, role
    unscoped = workspace_token(client, ["groups:read"])
    assert client.get("/api/v1/audit", headers=bearer(unscoped)).status_code == 403
    # A workspace token needs users:read AND an admin behind it: demote its creator.
    carol = new_user(client, "carol@example.com", "ADMIN")
    carol_personal = personal_token(client, carol["id"])
    created = client.post(
        "/api/v1/tokens",
        json={"type": "WORKSPACE", "scopes": ["users:read"]},
        headers=bearer(carol_personal),
    )
    assert created.status_code == 201, created.text
    scoped = created.json()["token"]
    assert client.get("/api/v1/audit", headers=bearer(scoped)).status_code == 200
    client.patch(f"/api/v1/users/{carol['id']}", json={"role": "EDITOR"})
    assert client.get("/api/v1/audit", headers=bearer(scoped)).status_code == 403


def test_an_edit_that_changes_nothing_records_nothing_and_a_partial_one_only_its_changes(
    client: TestClient,
) -> None:
    ann = new_user(client, "ann@example.com", role="EDITOR", name="Ann")
    bob = new_user(client, "bob@example.com")
    group = client.post(
        "/api/v1/groups", json={"name": "Analysts", "members": {"users": [{"id": ann["id"]}]}}
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    before = len(events(client))

    same_user = client.patch(f"/api/v1/users/{ann['id']}", json={"name": "Ann", "role": "EDITOR"})
    assert same_user.status_code == 200, same_user.text
    same_group = client.patch(
        f"/api/v1/groups/{group_id}",
        json={
            "name": "Analysts",
            "members": {
                "add": {"users": [{"id": ann["id"]}]},
                "remove": {"users": [{"id": bob["id"]}]},
            },
        },
    )
    assert same_group.status_code == 200, same_group.text
    assert len(events(client)) == before

    client.patch(f"/api/v1/users/{ann['id']}", json={"name": "Ann", "role": "EXPLORER"})
    assert only(client, "user.update")["details"] == {"fields": ["role"], "role": "EXPLORER"}
    client.patch(
        f"/api/v1/groups/{group_id}",
        json={
            "name": "Analysts",
            "members": {"add": {"users": [{"id": ann["id"]}, {"id": bob["id"]}]}},
        },
    )
    assert only(client, "group.update")["details"] == {
        "name": "Analysts",
        "membersAdded": [bob["id"]],
    }
