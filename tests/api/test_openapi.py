"""GET /openapi.json and /docs describe every endpoint, Hex's and Runyard's."""

from __future__ import annotations

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
