"""Each CLI test module drives its own real `runyard serve` process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.servers import Server, free_port


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    home = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "home"
    running = Server(home, free_port())
    running.start()
    yield running
    running.stop()
    running.http.close()
