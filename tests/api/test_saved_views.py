"""Saved views (/api/v1/projects/{id}/views) and RunProject's `viewId`."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.api.sharing_cast import owned_project, person, share_users
from tests.cast import new_view, notebook, published_project, trigger, wait_for_end

PARAMS = "region = 'EU'\ndays = 7"
PRINTS = notebook("print('inputs', region, days)", parameters=PARAMS)


def views_of(client: TestClient, project_id: str) -> list[dict[str, object]]:
    response = client.get(f"/api/v1/projects/{project_id}/views")
    assert response.status_code == 200, response.text
    values: list[dict[str, object]] = response.json()["values"]
    return values


def test_views_are_created_listed_by_name_renamed_and_deleted(client: TestClient) -> None:
    project_id = published_project(client, PRINTS)
    views = f"/api/v1/projects/{project_id}/views"
    created = client.post(views, json={"name": "  Weekly APAC ", "inputParams": {"region": "APAC"}})
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["name"] == "Weekly APAC" and view["inputParams"] == {"region": "APAC"}
    assert view["projectId"] == project_id and view["createdAt"].endswith("Z")
    new_view(client, project_id, "Daily", {"days": 1})
    assert [v["name"] for v in views_of(client, project_id)] == ["Daily", "Weekly APAC"]

    taken = client.patch(f"{views}/{view['id']}", json={"name": "Daily"})
    assert taken.status_code == 409 and taken.json()["code"] == "CONFLICT"
    renamed = client.patch(f"{views}/{view['id']}", json={"name": "APAC"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "APAC"
    assert client.get(f"{views}/{view['id']}").json()["name"] == "APAC"
    assert client.delete(f"{views}/{view['id']}").status_code == 204
    assert client.get(f"{views}/{view['id']}").status_code == 404
    assert [v["name"] for v in views_of(client, project_id)] == ["Daily"]


def test_a_view_with_inputs_the_project_refuses_is_not_saved(client: TestClient) -> None:
    project_id = published_project(client, PRINTS)
    views = f"/api/v1/projects/{project_id}/views"
    refused = client.post(views, json={"name": "Bad", "inputParams": {"days": "many", "x": 1}})
    assert refused.status_code == 422
    body = refused.json()
    assert [i["paramName"] for i in body["invalid"]] == ["days"] and body["notFound"] == ["x"]
    duplicate = client.post(views, json={"name": "A"})
    assert duplicate.status_code == 201
    assert client.post(views, json={"name": "A"}).status_code == 409
    blank = client.post(views, json={"name": "   "})
    assert blank.status_code == 400 and blank.json()["issues"][0]["message"].startswith("name")
    unpublished = client.post("/api/v1/projects", json={"title": "Draft"}).json()["id"]
    assert client.post(f"/api/v1/projects/{unpublished}/views", json={"name": "A"}).status_code == (
        422
    )
    assert [v["name"] for v in views_of(client, project_id)] == ["A"]


@pytest.mark.kernel
def test_a_run_with_a_view_id_uses_the_views_inputs(client: TestClient) -> None:
    project_id = published_project(client, PRINTS)
    view_id = new_view(client, project_id, "APAC", {"region": "APAC", "days": 3})
    for path in (f"/api/v1/projects/{project_id}/runs", f"/api/v1/project/{project_id}/run"):
        response = client.post(path, json={"viewId": view_id})
        assert response.status_code == 201, response.text
        run = wait_for_end(client, project_id, response.json()["runId"])
        assert run["status"] == "COMPLETED"
        assert run["inputParams"] == {"region": "APAC", "days": 3}
        log = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}/log").text
        assert "inputs APAC 3" in log


def test_unknown_and_foreign_view_ids_are_404_and_input_params_with_a_view_id_400(
    client: TestClient,
) -> None:
    project_id = published_project(client, PRINTS)
    other = published_project(client, PRINTS, "Other")
    foreign = new_view(client, other, "Theirs", {"days": 2})
    runs = f"/api/v1/projects/{project_id}/runs"
    for view_id in (str(uuid.uuid4()), foreign, "not-a-uuid"):
        response = client.post(runs, json={"viewId": view_id})
        assert response.status_code == 404, response.text
        body = response.json()
        assert body["code"] == "NOT_FOUND" and {"reason", "traceId", "issues"} <= set(body)
    mine = new_view(client, project_id, "Mine", {"days": 2})
    both = client.post(runs, json={"viewId": mine, "inputParams": {"days": 1}})
    assert both.status_code == 400
    assert client.get(runs).json()["runs"] == []


def test_app_viewers_list_and_run_views_but_do_not_change_them(client: TestClient) -> None:
    owner = person(client, "owner")
    viewer = person(client, "viewer", role="MEMBER")
    project_id = owned_project(client, owner)
    share_users(client, project_id, (viewer.id, "APP_ONLY"))
    view_id = new_view(client, project_id, "Two", {"n": 2})
    views = f"/api/v1/projects/{project_id}/views"
    listed = client.get(views, headers=viewer.headers)
    assert [v["id"] for v in listed.json()["values"]] == [view_id]
    assert client.post(views, json={"name": "X"}, headers=viewer.headers).status_code == 403
    renamed = client.patch(f"{views}/{view_id}", json={"name": "X"}, headers=viewer.headers)
    assert renamed.status_code == 403
    assert client.delete(f"{views}/{view_id}", headers=viewer.headers).status_code == 403
    run = client.post(
        f"/api/v1/projects/{project_id}/runs", json={"viewId": view_id}, headers=viewer.headers
    )
    assert run.status_code == 201, run.text
    client.delete(f"/api/v1/projects/{project_id}/runs/{run.json()['runId']}")


@pytest.mark.kernel
def test_a_dry_run_with_a_view_checks_its_inputs_and_starts_nothing(client: TestClient) -> None:
    project_id = published_project(client, PRINTS)
    view_id = new_view(client, project_id, "APAC", {"region": "APAC"})
    response = client.post(
        f"/api/v1/projects/{project_id}/runs", json={"viewId": view_id, "dryRun": True}
    )
    assert response.status_code == 201
    assert client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"] == []
    real = trigger(client, project_id, viewId=view_id)
    assert wait_for_end(client, project_id, real["runId"])["inputParams"] == {"region": "APAC"}
