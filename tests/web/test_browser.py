"""A real browser against a real `runyard serve`: sign in, run a project, watch it complete.

Needs Debian's headless Chromium (`apt-get install chromium`). Without it the test is
skipped with that hint; with CI=true a missing browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import TOKEN, Server, free_port, import_example
from tests.web.chromium import CHROMIUM, Chromium

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

SCREENSHOT = Path("/tmp/runyard-run-page.png")


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: a missing browser is a failure)")
        pytest.skip(message)
    browser = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
    try:
        browser.open_page()
        yield browser
    finally:
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "home", free_port(), RUNYARD_MAX_CONCURRENT_KERNELS="1")
    running.start()
    yield running
    running.stop()
    running.http.close()


def test_a_person_signs_in_runs_a_project_and_sees_it_complete(
    server: Server, chromium: Chromium
) -> None:
    project_id = import_example(server)
    base = f"http://127.0.0.1:{server.port}"

    chromium.navigate(f"{base}/app/projects")
    chromium.wait_for("location.pathname === '/login'")
    chromium.type_text("#token", TOKEN)
    chromium.press_enter()
    chromium.wait_for("location.pathname === '/app/projects'")
    assert "Daily sales" in chromium.evaluate("document.querySelector('main').innerText")

    chromium.click(f"a[href='/app/projects/{project_id}']")
    chromium.wait_for(f"location.pathname === '/app/projects/{project_id}'")
    chromium.evaluate("document.querySelector('#f-region').select()")
    chromium.type_text("#f-region", "APAC")
    chromium.click("form.run-form button[type=submit]")
    chromium.wait_for("location.pathname.includes('/runs/')")

    status = chromium.wait_for(
        "['COMPLETED', 'ERRORED', 'KILLED'].includes("
        "document.querySelector('h1 .status').textContent) && "
        "document.querySelector('h1 .status').textContent",
        timeout=90,
    )
    assert status == "COMPLETED"
    page_text = chromium.evaluate("document.querySelector('main').innerText")
    assert "APAC" in page_text and "total:" in page_text, "inputs and log are shown"
    run_url = chromium.evaluate("location.href")
    notebook_text = chromium.frame_text(f"{run_url}/html")
    assert "Daily sales summary" in notebook_text and "APAC" in notebook_text
    chromium.screenshot(SCREENSHOT)
