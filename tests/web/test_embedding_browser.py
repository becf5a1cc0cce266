"""A presigned embedding URL in headless Chromium, against a real `runyard serve`: it opens
the published app with no sign-in until it expires, and not after; a tampered one is refused;
one with inputs shows the app run with them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Server, free_port, import_example
from tests.web.chromium import Chromium
from tests.web.test_browser import chromium  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "home", free_port(), RUNYARD_MAX_CONCURRENT_KERNELS="1")
    running.start()
    yield running
    running.stop()
    running.http.close()


def published_example(server: Server) -> str:
    project_id = import_example(server)
    run = server.http.post(
        f"/api/v1/projects/{project_id}/runs", json={"updatePublishedResults": True}
    ).json()
    final = server.wait_for(project_id, run["runId"], {"COMPLETED", "ERRORED", "KILLED"})
    assert final["status"] == "COMPLETED", final
    return project_id


def presign(server: Server, project_id: str, **body: object) -> str:
    response = server.http.post(f"/api/v1/embedding/createPresignedUrl/{project_id}", json=body)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


def main_text(browser: Chromium) -> str:
    text: str = browser.evaluate("document.body.innerText")
    return text


def test_a_presigned_url_opens_until_it_expires_and_a_tampered_one_never(
    server: Server,
    chromium: Chromium,  # noqa: F811
) -> None:
    project_id = published_example(server)
    url = presign(server, project_id, expiresIn=6000)
    chromium.navigate(url)
    chromium.wait_for("document.readyState === 'complete'")
    assert chromium.evaluate("document.querySelector('iframe.app') !== null"), main_text(chromium)
    assert "Daily sales" in main_text(chromium) and "Published results" in main_text(chromium)
    frame_url = chromium.evaluate("document.querySelector('iframe.app').src")
    assert "Sign in" not in main_text(chromium)
    assert "EMEA" in chromium.frame_text(frame_url)

    tampered = url.replace("token=", "token=x")
    chromium.navigate(tampered)
    chromium.wait_for("document.body.innerText.includes('cannot be opened')")
    assert chromium.evaluate("document.querySelector('iframe.app')") is None

    time.sleep(6.5)
    chromium.navigate(url)
    chromium.wait_for("document.body.innerText.includes('expired')")
    assert chromium.evaluate("document.querySelector('iframe.app')") is None


def test_a_url_with_inputs_shows_the_app_run_with_them_once_it_is_done(
    server: Server,
    chromium: Chromium,  # noqa: F811
) -> None:
    """The page says the app is running, reloads itself (after the 3-second URL expired,
    too), and then frames the outputs computed from the URL's inputs, never the code; the
    published app is left as it was."""
    project_id = published_example(server)
    published = server.http.get(f"/api/v1/projects/{project_id}/publishedRun").json()["runId"]
    url = presign(server, project_id, expiresIn=3000, inputParameters={"region": "APAC"})
    chromium.navigate(url)
    chromium.wait_for("document.body.innerText.includes('Running the app')")
    assert 'region="APAC"' in main_text(chromium)
    chromium.wait_for("document.querySelector('iframe.app') !== null", timeout=90)
    assert 'region="APAC"' in main_text(chromium) and "Running" not in main_text(chromium)
    frame_url = chromium.evaluate("document.querySelector('iframe.app').src")
    outputs = chromium.frame_text(frame_url)
    assert "APAC" in outputs and "EMEA" not in outputs and "random.seed" not in outputs
    runs = server.http.get(
        f"/api/v1/projects/{project_id}/runs", params={"runTriggerFilter": "APP_REFRESH"}
    ).json()["runs"]
    assert [r["inputParams"] for r in runs] == [{"region": "APAC"}]
    after = server.http.get(f"/api/v1/projects/{project_id}/publishedRun").json()["runId"]
    assert after == published
