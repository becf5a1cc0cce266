"""Headless Chromium driven over the DevTools protocol, with nothing but the standard library.

`--remote-debugging-pipe` makes Chromium read protocol commands from fd 3 and write answers
to fd 4, each a JSON message ended by a NUL byte: no websocket client, no chromedriver, no
Selenium. Commands go to one page, attached in "flat" mode so its messages carry a
sessionId.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


class ProtocolError(Exception):
    """Chromium answered a command with an error."""


class Chromium:
    def __init__(self, profile: Path, log: Path) -> None:
        commands_in, commands_out = os.pipe()
        answers_in, answers_out = os.pipe()
        # bash (dash takes single-digit fds only) moves our two pipe ends onto fds 3 and 4;
        # lifting them above 9 first means neither can be 3 or 4 and overwrite the other.
        child_reads = fcntl.fcntl(commands_in, fcntl.F_DUPFD_CLOEXEC, 10)
        child_writes = fcntl.fcntl(answers_out, fcntl.F_DUPFD_CLOEXEC, 10)
        for fd in (commands_in, answers_out):
            os.close(fd)
        script = (
            f'exec "$0" "$@" 3<&{child_reads} 4>&{child_writes} {child_reads}<&- {child_writes}>&-'
        )
        with log.open("ab") as log_file:
            self.process = subprocess.Popen(
                ["/bin/bash", "-c", script, str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}"],
                pass_fds=(child_reads, child_writes),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for fd in (child_reads, child_writes):
            os.close(fd)
        self._out = commands_out
        self._in = answers_in
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None

    # -- protocol ------------------------------------------------------------------------

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send one command (to the page, once attached) and return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session is not None:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") != self._next_id:
                continue  # an event: this driver polls the page instead of following events
            if "error" in answer:
                raise ProtocolError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._in], [], [], remaining)
            if ready:
                chunk = os.read(self._in, 1 << 16)
                if not chunk:
                    raise ConnectionError("Chromium closed its DevTools pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    # -- a page --------------------------------------------------------------------------

    def open_page(self, width: int = 1280, height: int = 1400) -> None:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools is not bound by the
        page's Content-Security-Policy, which allows no script of the page's own)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise ProtocolError(result["exceptionDetails"].get("text", "script error"))
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll until `expression` is truthy in a fully loaded page; return its value.

        Pages reload themselves (a form post, the run page's meta refresh), and a poll that
        lands mid-navigation just tries again.
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(f"document.readyState === 'complete' && ({expression})")
            except ProtocolError:
                last = None
            if last:
                return last
            time.sleep(0.2)
        raise AssertionError(f"still false after {timeout}s: {expression} (last: {last!r})")

    def frame_text(self, url: str) -> str:
        """The text of the page's iframe at `url`. A sandboxed frame has an opaque origin,
        so Chromium runs it as a target of its own: attach to it and read it there."""
        targets = self.send("Target.getTargets")["targetInfos"]
        frame = next((t for t in targets if t["type"] == "iframe" and t["url"] == url), None)
        assert frame is not None, f"no iframe showing {url}"
        page_session = self._session
        self._session = self.send(
            "Target.attachToTarget", targetId=frame["targetId"], flatten=True
        )["sessionId"]
        try:
            text: str = self.wait_for("document.body.innerText")
        finally:
            self._session = page_session
        return text

    def type_text(self, selector: str, text: str) -> None:
        """Focus a field and type into it, as a keyboard would."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )

    def click(self, selector: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    # -- end -----------------------------------------------------------------------------

    def close(self) -> None:
        self._session = None
        # Chromium may close the pipe before it answers: any ending will do.
        with contextlib.suppress(ProtocolError, TimeoutError, ConnectionError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # Our own child, in its own session: end its whole process group (renderers too).
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for fd in (self._out, self._in):
            os.close(fd)
