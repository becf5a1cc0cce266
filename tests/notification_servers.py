"""Real servers that notifications go to: an SMTP server (aiosmtpd) and a stand-in for
Slack's Web API (http.server), both on loopback, recording what they receive."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers import free_port

SLACK_TOKEN = "xoxb-test-slack-token-9Qz7"


@dataclass
class Inbox:
    """What the SMTP server accepted; `refusing` makes it answer 421, as a server that is
    down for maintenance does."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refusing: bool = False
    port: int = 0
    # The only login accepted, when a client logs in at all.
    login: tuple[str, str] = ("runyard", "smtp-password-Q4x9")

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        given = (
            (data.login.decode(), data.password.decode())
            if isinstance(data, LoginPassword)
            else None
        )
        if given == self.login:
            return AuthResult(success=True)
        # `handled=False` makes aiosmtpd send the 535 itself; otherwise it leaves the client
        # waiting for an answer.
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Authentication credentials invalid"
        )

    async def handle_DATA(  # noqa: N802  (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.refusing:
            return "421 Service not available, try again later"
        content = envelope.content
        raw = content if isinstance(content, bytes) else (content or "").encode()
        self.messages.append(
            (
                [str(r) for r in envelope.rcpt_tos],
                email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default),
            )
        )
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for recipients, m in self.messages if address in recipients]


@dataclass
class SlackApi:
    posts: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # path, auth, body
    url: str = ""


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    received = Inbox(port=free_port())
    controller = Controller(
        received,
        hostname="127.0.0.1",
        port=received.port,
        authenticator=received.authenticate,
        auth_require_tls=False,  # loopback only; the test server has no certificate
    )
    controller.start()
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def slack_api() -> Iterator[SlackApi]:
    api = SlackApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            api.posts.append((self.path, self.headers.get("Authorization", ""), body))
            answer = json.dumps({"ok": True, "channel": body.get("channel")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def notifying_settings(inbox: Inbox, slack_api: SlackApi) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox.port,
        "smtp_starttls": False,
        "smtp_from": "runyard@example.test",
        "slack_bot_token": SLACK_TOKEN,
        "slack_api_url": slack_api.url,
    }
