"""Reading the pages an embedding URL opens, as a browser would without signing in: the
page, reloaded as its meta refresh says while its run goes on, and the outputs in its frame.

`anonymous` is any HTTP client without a token whose `get` takes a path: the in-process
TestClient or an httpx.Client on a real server."""

from __future__ import annotations

import html
import re
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+; url=([^"]+)">')
FRAME = re.compile(r'<iframe class="notebook app" sandbox src="([^"]+)"')


class Browser(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def followed(anonymous: Browser, path: str, timeout: float = 60) -> str:
    """The embedded page at `path`, reloaded as its meta refresh says until it stops."""
    deadline = time.monotonic() + timeout
    while True:
        page = anonymous.get(path)
        assert page.status_code == 200, page.text
        refresh = REFRESH.search(page.text)
        if refresh is None:
            text: str = page.text
            return text
        assert "refreshes every" in page.text and "Running the app" in page.text
        assert time.monotonic() < deadline, "the embedded run did not end"
        path = html.unescape(refresh.group(1))
        time.sleep(0.2)


def frame_of(anonymous: Browser, page: str) -> str:
    """The outputs-only page framed by the embedded `page`."""
    found = FRAME.search(page)
    assert found is not None, page
    frame = anonymous.get(html.unescape(found.group(1)))
    assert frame.status_code == 200, frame.text
    text: str = frame.text
    return text
