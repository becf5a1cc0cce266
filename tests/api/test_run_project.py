"""POST /api/v1/projects/{id}/runs and POST /api/v1/project/{id}/run (Hex's RunProject)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.cast import notebook, published_project, wait_for_end

PARAMS = "limit = 10\nratio = 0.5\nname = 'x'\nflag = False"


def test_both_path_families_answer_201_with_urls_into_their_own_family(
    client: TestClient,
) -> None:
    project_id = published_project(client, notebook("print(limit)", parameters=PARAMS))
    plural = client.post(f"/api/v1/projects/{project_id}/runs", json={})
    singular = client.post(f"/api/v1/project/{project_id}/run")
    assert (plural.status_code, singular.status_code) == (201, 201)
    for response, path in ((plural, "/projects/"), (singular, "/project/")):
        body = response.json()
        assert body["projectId"] == project_id and body["projectVersion"] == 1
        assert body["runStatusUrl"].startswith("http://127.0.0.1:8080/api/v1" + path)
        assert body["runStatusUrl"].endswith(body["runId"])
        assert body["runUrl"].startswith("http://127.0.0.1:8080/")
        assert body["traceId"]
        assert wait_for_end(client, project_id, body["runId"])["status"] == "COMPLETED"


def test_values_of_the_wrong_type_and_unknown_names_get_the_invalid_param_payload(
    client: TestClient,
) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    response = client.post(
        f"/api/v1/projects/{project_id}/runs",
        json={"inputParams": {"limit": "ten", "flag": "maybe", "nmae": "typo"}},
    )
    assert response.status_code == 422
    body = response.json()
    assert {item["paramName"] for item in body["invalid"]} == {"limit", "flag"}
    limit = next(item for item in body["invalid"] if item["paramName"] == "limit")
    assert limit == {
        "paramName": "limit",
        "paramValue": "ten",
        "dataType": "int",
        "inputCellType": limit["inputCellType"],
    }
    assert body["notFound"] == ["nmae"]
    assert any("inputParams.limit" in issue["message"] for issue in body["issues"])
    assert client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"] == []


def test_coercible_strings_are_accepted_and_injected_as_typed_values(client: TestClient) -> None:
    nb = notebook("print(repr(limit), repr(ratio), repr(flag))", parameters=PARAMS)
    project_id = published_project(client, nb)
    run = client.post(
        f"/api/v1/projects/{project_id}/runs",
        json={"inputParams": {"limit": "25", "ratio": 2, "flag": "true"}},
    ).json()
    final = wait_for_end(client, project_id, run["runId"])
    assert final["status"] == "COMPLETED"
    assert final["inputParams"] == {"limit": 25, "ratio": 2.0, "flag": True}
    executed = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}/notebook").json()
    printed = "".join(
        output.get("text", "") for cell in executed["cells"] for output in cell.get("outputs", [])
    )
    assert "25 2.0 True" in printed


def test_a_project_that_was_never_published_is_a_clear_422(client: TestClient) -> None:
    project_id = client.post("/api/v1/projects", json={"title": "draft"}).json()["id"]
    response = client.post(f"/api/v1/projects/{project_id}/runs", json={})
    assert response.status_code == 422
    assert response.json()["message"] == "This project has not been published"


def test_every_422_of_both_paths_has_the_keys_of_the_invalid_param_payload(
    client: TestClient,
) -> None:
    # The document declares InvalidParamBody for the 422: clients read `invalid` and
    # `notFound` on every 422, a project never published included.
    project_id = client.post("/api/v1/projects", json={"title": "draft"}).json()["id"]
    for path in (f"/api/v1/projects/{project_id}/runs", f"/api/v1/project/{project_id}/run"):
        response = client.post(path, json={})
        assert response.status_code == 422, path
        body = response.json()
        assert (body["invalid"], body["notFound"]) == ([], []), path
        assert body["message"] == "This project has not been published"


def test_input_params_with_a_view_id_is_a_400(client: TestClient) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    response = client.post(
        f"/api/v1/projects/{project_id}/runs", json={"inputParams": {"limit": 1}, "viewId": "v1"}
    )
    assert response.status_code == 400


def test_update_published_results_with_custom_inputs_is_a_400_naming_the_flag_sent(
    client: TestClient,
) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    for flag in ("updatePublishedResults", "updateCache"):
        body = {"inputParams": {"limit": 1}, flag: True}
        response = client.post(f"/api/v1/projects/{project_id}/runs", json=body)
        assert response.status_code == 400, body
        answer = response.json()
        assert answer["message"] == f"{flag} cannot be used with custom inputParams"
        assert [issue["message"] for issue in answer["issues"]] == [
            f"{flag}: not allowed together with inputParams"
        ]


def test_a_completed_run_with_update_published_results_updates_the_project(
    client: TestClient,
) -> None:
    project_id = published_project(client, notebook("1", parameters=PARAMS))
    run = client.post(f"/api/v1/projects/{project_id}/runs", json={"updateCache": True}).json()
    assert wait_for_end(client, project_id, run["runId"])["status"] == "COMPLETED"
    analytics = client.get(f"/api/v1/projects/{project_id}").json()["analytics"]
    assert analytics["publishedResultsUpdatedAt"] is not None


def test_a_dry_run_validates_and_starts_nothing(client: TestClient) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    response = client.post(
        f"/api/v1/projects/{project_id}/runs", json={"dryRun": True, "inputParams": {"limit": 3}}
    )
    assert response.status_code == 201
    assert client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"] == []
    bad = client.post(
        f"/api/v1/projects/{project_id}/runs", json={"dryRun": True, "inputParams": {"limit": "x"}}
    )
    assert bad.status_code == 422


def test_a_dry_run_says_so_and_its_status_url_explains_there_is_no_run(
    client: TestClient,
) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    for path in (f"/api/v1/projects/{project_id}/runs", f"/api/v1/project/{project_id}/run"):
        answer = client.post(path, json={"dryRun": True})
        assert answer.status_code == 201
        body = answer.json()
        assert body["dryRun"] is True and body["runId"] == "00000000-0000-0000-0000-000000000000"
        status = client.get(body["runStatusUrl"].removeprefix("http://127.0.0.1:8080"))
        assert status.status_code == 404 and "dry run" in status.json()["message"]
        cancel = client.delete(body["runStatusUrl"].removeprefix("http://127.0.0.1:8080"))
        assert cancel.status_code == 404 and "dry run" in cancel.json()["message"]
    real = client.post(f"/api/v1/projects/{project_id}/runs", json={"dryRun": False}).json()
    assert "dryRun" not in real
    client.delete(f"/api/v1/projects/{project_id}/runs/{real['runId']}")


def test_the_same_idempotency_key_returns_the_same_run(client: TestClient) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    headers = {"Idempotency-Key": "nightly-2026-11-28"}
    first = client.post(f"/api/v1/projects/{project_id}/runs", json={}, headers=headers)
    again = client.post(f"/api/v1/projects/{project_id}/runs", json={}, headers=headers)
    other = client.post(
        f"/api/v1/projects/{project_id}/runs", json={}, headers={"Idempotency-Key": "another"}
    )
    assert first.json()["runId"] == again.json()["runId"] != other.json()["runId"]
    assert again.headers["Idempotent-Replayed"] == "true"
    runs = client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"]
    assert len(runs) == 2
    for run in runs:
        wait_for_end(client, project_id, run["runId"])


def test_a_body_that_is_not_an_object_is_a_400(client: TestClient) -> None:
    project_id = published_project(client, notebook("pass", parameters=PARAMS))
    for raw in ("[1, 2]", '{"inputParams": 5}', "{not json"):
        response = client.post(
            f"/api/v1/projects/{project_id}/runs",
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, raw
    assert client.get(f"/api/v1/projects/{project_id}/runs").json()["runs"] == []


def test_runs_execute_the_published_version_not_the_later_draft(client: TestClient) -> None:
    project_id = published_project(client, notebook("print('published')"))
    client.put(
        f"/api/v1/projects/{project_id}/notebook",
        content=json.dumps(notebook("print('draft')")),
        headers={"Content-Type": "application/json"},
    )
    run = client.post(f"/api/v1/projects/{project_id}/runs").json()
    assert wait_for_end(client, project_id, run["runId"])["status"] == "COMPLETED"
    log = client.get(f"/api/v1/projects/{project_id}/runs/{run['runId']}/log").text
    assert "published" in log and "draft" not in log
