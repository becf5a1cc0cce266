"""A real browser against a real `runyard serve`: sign in, run a project, watch it complete;
add a schedule from the project page and pause it.

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
SCHEDULES_SCREENSHOT = Path("/tmp/runyard-project-schedules.png")


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


def sign_in(chromium: Chromium, base: str) -> None:
    chromium.navigate(f"{base}/app/projects")
    chromium.wait_for("location.pathname === '/login'")
    chromium.type_text("#token", TOKEN)
    chromium.press_enter()
    chromium.wait_for("location.pathname === '/app/projects'")


def test_a_person_signs_in_runs_a_project_and_sees_it_complete(
    server: Server, chromium: Chromium
) -> None:
    project_id = import_example(server)
    base = f"http://127.0.0.1:{server.port}"

    sign_in(chromium, base)
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


def shown(chromium: Chromium, selector: str) -> bool:
    shown: bool = chromium.evaluate(
        f"getComputedStyle(document.querySelector('{selector}').closest('.field')).display"
        " !== 'none'"
    )
    return shown


def test_a_person_adds_a_cron_schedule_from_the_project_page_and_pauses_it(
    server: Server, chromium: Chromium
) -> None:
    project_id = import_example(server)
    base = f"http://127.0.0.1:{server.port}"
    sign_in(chromium, base)
    chromium.navigate(f"{base}/app/projects/{project_id}")
    chromium.wait_for("document.querySelector('#schedules') !== null")

    chromium.click("details.add-schedule summary")
    assert shown(chromium, "#s-at") and not shown(chromium, "#s-cron"), "DAILY shows its time"
    chromium.evaluate(
        "(s => { s.value = 'CUSTOM'; s.dispatchEvent(new Event('change')); })"
        "(document.querySelector('#s-cadence'))"
    )
    assert shown(chromium, "#s-cron") and not shown(chromium, "#s-at"), "cron hides the time"
    chromium.type_text("#s-cron", "30 6 * * MON-FRI")
    chromium.evaluate("document.querySelector('#s-timezone').select()")
    chromium.type_text("#s-timezone", "Europe/Paris")
    chromium.click("form.schedule-form button[type=submit]")
    chromium.wait_for("location.hash.startsWith('#schedule-')")

    row = "document.querySelector(location.hash)"
    text = chromium.evaluate(f"{row}.innerText")
    assert "Cron '30 6 * * MON-FRI' (Europe/Paris)" in text and "enabled" in text
    [schedule] = server.http.get(f"/api/v1/projects/{project_id}/schedules").json()["values"]
    assert schedule["custom"] == {"timezone": "Europe/Paris", "cron": "30 6 * * MON-FRI"}
    chromium.screenshot(SCHEDULES_SCREENSHOT)

    chromium.click(f"#schedule-{schedule['id']} form.inline button")
    chromium.wait_for(f"{row} && {row}.innerText.includes('paused')")
    paused = server.http.get(f"/api/v1/projects/{project_id}/schedules/{schedule['id']}")
    assert paused.json()["enabled"] is False
