"""Each CLI test module drives its own real `runyard serve` process (the `server` fixture)."""

from __future__ import annotations

from tests.servers import module_server

__all__ = ["module_server"]
