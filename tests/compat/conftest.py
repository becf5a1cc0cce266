"""Runyard driven by the published clients of Hex's API, as their users run them
(see tests/compat/clients.py). Each module gets its own server and projects."""

from __future__ import annotations

import pytest

from tests.cast import notebook, published_project
from tests.compat.clients import Projects
from tests.servers import Server, module_server

__all__ = ["module_server"]


@pytest.fixture(scope="module")
def projects(server: Server) -> Projects:
    """Published projects every client runs: one that completes with typed parameters, one
    that raises, one that sleeps until it is cancelled."""
    return Projects(
        quick=published_project(
            server.http,
            notebook(
                "summary = f'{region}: {days} days'\nprint(summary)",
                parameters='region = "EMEA"\ndays = 3',
            ),
            title="daily_sales",
        ),
        failing=published_project(
            server.http, notebook("raise ValueError('the warehouse is empty')"), title="broken"
        ),
        slow=published_project(server.http, notebook("import time\ntime.sleep(600)"), title="slow"),
    )
