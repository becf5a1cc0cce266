"""GET /openapi.json and /docs describe every endpoint, Hex's and Runyard's."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient

from runyard.app import Runtime, create_app


def test_every_operation_in_the_openapi_document_has_a_summary(runtime: Runtime) -> None:
    spec = create_app(runtime, background=False).openapi()
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    assert [f"{m} {p}" for m, p, op in operations if not op.get("summary")] == []
    assert len(operations) >= 19


def test_the_run_endpoints_carry_their_real_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    trigger = spec["paths"]["/api/v1/projects/{projectId}/runs"]["post"]
    assert "RunProjectBody" in str(trigger["requestBody"])
    assert "RunTriggered" in str(trigger["responses"]["201"])
    assert "InvalidParamBody" in str(trigger["responses"]["422"])
    assert "/api/v1/project/{projectId}/run" in spec["paths"]


def test_the_interactive_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


def _api_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]


def _body_ref(response: dict[str, Any]) -> str:
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def test_every_api_operation_declares_the_errors_it_can_answer_in_the_superset_body(
    runtime: Runtime,
) -> None:
    spec = create_app(runtime, background=False).openapi()
    for method, path, operation in _api_operations(spec):
        responses = operation["responses"]
        expected = {"400", "401", "429"}
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected.add("404")
        if "requestBody" in operation:
            expected.add("413")
        assert expected <= set(responses), f"{method} {path}: {sorted(responses)}"
        for status, response in responses.items():
            if status.startswith("4"):
                assert response["description"], f"{method} {path} {status}"
                assert _body_ref(response) in ("ErrorBody", "InvalidParamBody"), (
                    f"{method} {path} {status}"
                )
    assert "Retry-After" in spec["paths"]["/api/v1/projects"]["get"]["responses"]["429"]["headers"]


def test_fastapis_422_that_the_server_never_sends_is_not_declared(runtime: Runtime) -> None:
    spec = create_app(runtime, background=False).openapi()
    assert "HTTPValidationError" not in json.dumps(spec)
    assert "ValidationError" not in spec["components"]["schemas"]
    # A 422 is declared where the server answers one, in the body it sends.
    projects = spec["paths"]["/api/v1/projects/{projectId}/schedules"]["post"]["responses"]
    assert _body_ref(projects["422"]) == "ErrorBody"
    assert "422" not in spec["paths"]["/api/v1/projects"]["get"]["responses"]


def test_what_any_valid_token_may_call_declares_no_403(runtime: Runtime) -> None:
    spec = create_app(runtime, background=False).openapi()
    assert "403" not in spec["paths"]["/api/v1/users/me"]["get"]["responses"]
    assert "403" not in spec["paths"]["/api/v1/tokens"]["get"]["responses"]
    assert "403" in spec["paths"]["/api/v1/tokens"]["post"]["responses"]
    assert "x-runyard-any-token" not in json.dumps(spec)


def test_the_declared_error_body_is_the_one_sent(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    declared = spec["components"]["schemas"]["ErrorBody"]
    missing = client.get(f"/api/v1/projects/{uuid.uuid4()}")
    unauthenticated = client.get("/api/v1/projects", headers={"Authorization": "Bearer nope"})
    for response in (missing, unauthenticated):
        assert set(declared["required"]) <= set(response.json()), response.json()
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"] == "Bearer"


def test_every_api_operation_declares_the_bearer_token_it_needs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, operation in _api_operations(spec):
        assert operation["security"] == [{"bearerAuth": []}], f"{method} {path}"
    # What is not the API (the web UI, probes, the document itself) declares none.
    assert "security" not in spec["paths"].get("/healthz", {}).get("get", {})
    untokened = client.get("/api/v1/projects", headers={"Authorization": ""})
    assert untokened.status_code == 401
