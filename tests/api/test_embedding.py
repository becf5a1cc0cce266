"""POST /api/v1/embedding/createPresignedUrl/{projectId} and the pages its URLs open."""

from __future__ import annotations

import base64
import html
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from runyard.app import build_runtime, create_app
from runyard.config import Settings
from tests.api.sharing_cast import owned_project, person, share_users
from tests.cast import notebook, trigger, wait_for_end
from tests.embedded_pages import REFRESH, followed, frame_of, path_of

pytestmark = pytest.mark.kernel


def presign(client: TestClient, project_id: str, **body: object) -> str:
    response = client.post(f"/api/v1/embedding/createPresignedUrl/{project_id}", json=body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"url"}
    url: str = response.json()["url"]
    return url


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


# -- the app run with the URL's inputs -------------------------------------------------------


def app_runs(client: TestClient, project_id: str) -> list[dict[str, Any]]:
    """The project's runs started by embedded apps (Hex's APP_REFRESH trigger)."""
    response = client.get(
        f"/api/v1/projects/{project_id}/runs", params={"runTriggerFilter": "APP_REFRESH"}
    )
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()["runs"]
    return runs


def published_run_id(client: TestClient, project_id: str) -> str:
    response = client.get(f"/api/v1/projects/{project_id}/publishedRun")
    assert response.status_code == 200, response.text
    run_id: str = response.json()["runId"]
    return run_id


def test_a_url_with_other_inputs_shows_the_app_run_with_them_and_leaves_the_app_alone(
    client: TestClient, published: str
) -> None:
    before = published_run_id(client, published)
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        # Signed once the anonymous client has started (its lifespan can take a second on a
        # busy machine), so the URL is still valid for the first open.
        url = presign(client, published, inputParameters={"n": 21}, expiresIn=2000)
        first = anonymous.get(path_of(url))
        assert first.status_code == 200, first.text
        assert "Running the app" in first.text and '<code class="param">n=21</code>' in first.text
        refresh = REFRESH.search(first.text)
        assert refresh is not None, first.text
        time.sleep(2.1)
        # The URL has expired, but the page it opened follows its run with a token of its own.
        assert anonymous.get(path_of(url)).status_code == 403
        shown = followed(anonymous, html.unescape(refresh.group(1)))
        assert "could not be run" not in shown
        assert '<code class="param">n=21</code>' in shown
        frame = frame_of(anonymous, shown)
        assert "total 42" in frame and "secret_formula" not in frame
    [run] = app_runs(client, published)
    assert run["status"] == "COMPLETED" and run["inputParams"] == {"n": 21}
    assert published_run_id(client, published) == before
    no_inputs = presign(client, published)
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        assert "total 2" in frame_of(anonymous, anonymous.get(path_of(no_inputs)).text)


def test_opening_it_again_reuses_the_run_and_so_does_a_new_url_with_the_same_inputs(
    client: TestClient, published: str
) -> None:
    url = presign(client, published, inputParameters={"n": 4}, expiresIn=60_000)
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        first = anonymous.get(path_of(url)).text
        again = anonymous.get(path_of(url)).text  # while the run is going: joined
        assert REFRESH.search(first) and REFRESH.search(again)
        run_path = html.unescape(REFRESH.search(first).group(1)).split("?")[0]  # type: ignore[union-attr]
        assert run_path in again
        followed(anonymous, path_of(url))
        # Completed and recent: reused, by this URL and by a new one with the same values.
        later = presign(client, published, inputParameters={"n": "4"})
        for path in (path_of(url), path_of(later)):
            page = anonymous.get(path).text
            assert REFRESH.search(page) is None and "total 8" in frame_of(anonymous, page)
    assert len(app_runs(client, published)) == 1


def test_inputs_equal_to_the_published_ones_and_test_mode_show_the_published_results(
    client: TestClient, published: str
) -> None:
    same = presign(client, published, inputParameters={"n": 1})  # n's default
    test_mode = presign(client, published, inputParameters={"n": 9}, testMode=True)
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        for url in (same, test_mode):
            page = anonymous.get(path_of(url)).text
            assert "Published results" in page and REFRESH.search(page) is None
            assert "total 2" in frame_of(anonymous, page)
        assert "test mode" in anonymous.get(path_of(test_mode)).text
    assert app_runs(client, published) == []


def test_concurrent_opens_in_two_server_processes_start_one_run(
    client: TestClient, published: str, settings_values: dict[str, Any]
) -> None:
    """Two apps on one store stand for two `runyard serve` processes: nothing in memory is
    shared, so only the store can keep the opens to one run."""
    url = presign(client, published, inputParameters={"n": 6}, expiresIn=60_000)
    other = build_runtime(Settings(**settings_values), migrate=False)
    try:
        with (
            TestClient(client.app) as here,  # type: ignore[arg-type]
            TestClient(create_app(other)) as there,
        ):
            # FastAPI builds each app's routes on their first request, silencing a pydantic
            # warning with warnings.catch_warnings, which is not thread-safe: under this
            # suite's "warnings are errors", eight first requests at once can turn it into an
            # error. One request each first; the race under test is the store's.
            for browser in (here, there):
                assert browser.get("/embed/").status_code in (200, 404)
            start = threading.Barrier(8)

            def open_once(browser: TestClient) -> int:
                start.wait()
                return browser.get(path_of(url)).status_code

            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(open_once, [here, there] * 4))
            assert statuses == [200] * 8
            followed(here, path_of(url))
    finally:
        other.db.dispose()
    [run] = app_runs(client, published)
    assert run["status"] == "COMPLETED"


def test_an_altered_input_in_the_url_is_refused(client: TestClient, published: str) -> None:
    url = presign(client, published, inputParameters={"n": 3})
    token = parse_qs(urlsplit(url).query)["token"][0]
    payload, signature = token.split(".")
    grant = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    grant["i"] = {"n": 300}
    altered = base64.urlsafe_b64encode(
        json.dumps(grant, sort_keys=True, separators=(",", ":")).encode()
    )
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        refused = anonymous.get(
            f"/embed/{published}?token={altered.decode().rstrip('=')}.{signature}"
        )
        assert refused.status_code == 403 and "altered" in refused.text
    assert app_runs(client, published) == []


def test_inputs_the_published_app_no_longer_takes_give_a_clear_422_page(
    client: TestClient, published: str
) -> None:
    url = presign(client, published, inputParameters={"n": 3})
    republish(client, published, "print('hello', region)", parameters="region = 'EU'")
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        page = anonymous.get(path_of(url))
    assert page.status_code == 422
    assert "inputs do not fit the published app any more" in page.text
    assert "inputParams.n: no such input parameter" in page.text
    assert app_runs(client, published) == []


def test_a_failed_run_says_why_in_words_without_the_code(
    client: TestClient, published: str
) -> None:
    republish(
        client,
        published,
        "secret_formula = 10 // n\nprint('total', secret_formula)",
        parameters="n = 1",
    )
    url = presign(client, published, inputParameters={"n": 0}, expiresIn=60_000)
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        page = followed(anonymous, path_of(url))
    assert "The app could not be run with these inputs" in page
    assert "ZeroDivisionError" in page
    assert "secret_formula" not in page and "Traceback" not in page and "<iframe" not in page


def test_a_url_whose_creator_may_no_longer_run_the_app_runs_nothing(
    client: TestClient, published: str
) -> None:
    maker = person(client, "maker")
    share_users(client, published, (maker.id, "FULL_ACCESS"))
    url = presign_as(client, maker.headers, published, inputParameters={"n": 5})
    assert client.post(f"/api/v1/users/{maker.id}/deactivate").status_code == 200
    with TestClient(client.app) as anonymous:  # type: ignore[arg-type]
        refused = anonymous.get(path_of(url))
    assert refused.status_code == 403 and "may no longer run this app" in refused.text
    assert app_runs(client, published) == []


def presign_as(client: TestClient, headers: dict[str, str], project_id: str, **body: object) -> str:
    response = client.post(
        f"/api/v1/embedding/createPresignedUrl/{project_id}", json=body, headers=headers
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def republish(client: TestClient, project_id: str, *sources: str, parameters: str) -> None:
    put = client.put(
        f"/api/v1/projects/{project_id}/notebook", json=notebook(*sources, parameters=parameters)
    )
    assert put.status_code == 200, put.text
    assert client.post(f"/api/v1/projects/{project_id}/publish").status_code == 201
