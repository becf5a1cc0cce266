"""POST /api/v1/embedding/createPresignedUrl/{projectId} and the pages its URLs open."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.api.sharing_cast import owned_project, person, share_users
from tests.cast import trigger, wait_for_end

pytestmark = pytest.mark.kernel


def presign(client: TestClient, project_id: str, **body: object) -> str:
    response = client.post(f"/api/v1/embedding/createPresignedUrl/{project_id}", json=body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"url"}
    url: str = response.json()["url"]
    return url


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def published(client: TestClient) -> str:
    project_id = owned_project(client, person(client, "owner"), title="Embedded sales")
    run = trigger(client, project_id, updatePublishedResults=True)
    assert wait_for_end(client, project_id, run["runId"])["status"] == "COMPLETED"
    return project_id


def test_a_presigned_url_opens_the_published_app_without_signing_in(
    client: TestClient, published: str
) -> None:
    url = presign(
        client,
        published,
        inputParameters={"n": 3},
        displayOptions={"theme": "dark", "noEmbedFooter": True},
        testMode=True,
        somethingHexAddsLater=1,
    )
    assert url.startswith(f"http://127.0.0.1:8080/embed/{published}?token=")
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        page = anonymous.get(path_of(url))
        assert page.status_code == 200, page.text
        assert "Embedded sales" in page.text and "theme-dark" in page.text
        assert "frame-ancestors *" in page.headers["content-security-policy"]
        assert '<code class="param">n=3</code>' in page.text
        frame = anonymous.get(path_of(url).replace("?token=", "/app?token="))
        assert frame.status_code == 200
        assert "total 2" in frame.text and "secret_formula" not in frame.text


def test_an_altered_or_expired_url_is_refused(client: TestClient, published: str) -> None:
    url = presign(client, published, expiresIn=1500.0)  # hex-toolkit sends a float
    token = parse_qs(urlsplit(url).query)["token"][0]
    payload, signature = token.split(".")
    other = owned_project(client, person(client, "other"), title="Other")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        for path in (
            f"/embed/{published}?token={flipped}.{signature}",
            f"/embed/{published}?token={payload}.{signature[:-2]}",
            f"/embed/{other}?token={token}",
            f"/embed/{published}?token=nonsense",
            f"/embed/{published}/app?token={flipped}.{signature}",
        ):
            refused = anonymous.get(path)
            assert refused.status_code == 403, path
            assert "embedded app link cannot be opened" in refused.text
        assert anonymous.get(path_of(url)).status_code == 200
        time.sleep(1.6)
        expired = anonymous.get(path_of(url))
        assert expired.status_code == 403 and "expired" in expired.text


def test_bad_requests_and_callers_without_full_access_are_refused(
    client: TestClient, published: str
) -> None:
    endpoint = f"/api/v1/embedding/createPresignedUrl/{published}"
    assert client.post(endpoint, json={"expiresIn": 300_001}).status_code == 400
    assert client.post(endpoint, json={"inputParameters": {"n": "many"}}).status_code == 422
    assert client.post(endpoint, json={"scope": ["PRINT"]}).status_code == 400
    editor = person(client, "editor")
    share_users(client, published, (editor.id, "CAN_EDIT"))
    refused = client.post(endpoint, json={}, headers=editor.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"
    share_users(client, published, (editor.id, "FULL_ACCESS"))
    assert client.post(endpoint, json={}, headers=editor.headers).status_code == 200
