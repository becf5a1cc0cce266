"""Real servers that notifications go to: an SMTP server (aiosmtpd) and a stand-in for
Slack's Web API (http.server), both on loopback, recording what they receive; and the
settings, clients and delivery service the notification tests build around them.

A test module takes the fixtures by importing them: `inbox` and `slack_api` always, with
`settings_values` (which overrides the suite's) to send to them.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi.testclient import TestClient

from runyard.app import Runtime, build_runtime, create_app, notification_channels
from runyard.config import Settings
from runyard.services.notifications import DeliveryReport, NotificationService
from tests.cast import AUTH, new_group, new_user, notebook, published_project
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


@pytest.fixture
def settings_values(
    settings_values: dict[str, Any], inbox: Inbox, slack_api: SlackApi
) -> dict[str, Any]:
    """The suite's settings, sending email to `inbox` and Slack messages to `slack_api`."""
    return {**settings_values, **notifying_settings(inbox, slack_api)}


@dataclass(frozen=True)
class UnconfiguredChannel:
    """A recipient of one kind on a server that has no channel to reach it."""

    client: TestClient  # a second server on the same store, with neither email nor Slack
    project_id: str  # a published project there
    field: str  # the notification's field that names the recipient (`userIds`, …)
    ids: list[str]  # a recipient of that kind that exists
    setting: str  # the setting the refusal says is missing

    def notifications(self, kind: str = "ALL") -> list[dict[str, Any]]:
        return [{"type": kind, "includeSuccessScreenshot": False, self.field: self.ids}]

    def assert_refused(self, answer: httpx.Response) -> None:
        """The answer is the 422 that names the field and the missing setting."""
        assert answer.status_code == 422, answer.text
        assert f"notifications[0].{self.field}" in answer.json()["message"]
        assert self.setting in answer.json()["message"]


@pytest.fixture(
    params=[
        ("userIds", "RUNYARD_SMTP_HOST"),
        ("groupIds", "RUNYARD_SMTP_HOST"),
        ("slackChannelIds", "RUNYARD_SLACK_BOT_TOKEN"),
    ],
    ids=lambda param: str(param[0]),
)
def unconfigured_channel(
    request: pytest.FixtureRequest, settings_values: dict[str, Any], tmp_path: Path
) -> Iterator[UnconfiguredChannel]:
    field_name, setting = request.param
    plain = {k: v for k, v in settings_values.items() if not k.startswith(("smtp_", "slack_"))}
    runtime = build_runtime(Settings(**{**plain, "home": tmp_path / "plain"}), migrate=False)
    try:
        with TestClient(create_app(runtime, background=False), headers=AUTH) as client:
            alice = new_user(client, "alice@example.test")
            ids = {
                "userIds": [alice["id"]],
                "groupIds": [new_group(client, "Team", [alice["id"]])],
                "slackChannelIds": ["C1"],
            }[field_name]
            project_id = published_project(client, notebook("1"))
            yield UnconfiguredChannel(client, project_id, field_name, ids, setting)
    finally:
        runtime.db.dispose()


def delivery_service(runtime: Runtime, now: datetime) -> NotificationService:
    """The delivery side as another process would build it on the same store, its clock
    stopped at `now`."""
    return NotificationService(
        runtime.db,
        lambda: now,
        notification_channels(runtime.settings),
        runtime.settings.resolved_public_url,
    )


def delivered_once(runtime: Runtime, now: datetime) -> DeliveryReport:
    """What delivering at `now` did, once it is checked that a pass a day later finds
    nothing left to do: every message went out once, and none waits for a retry."""
    report = delivery_service(runtime, now).deliver_due(now)
    assert delivery_service(runtime, now).deliver_due(now + timedelta(days=1)).found_work is False
    return report


def text_of(mail: EmailMessage) -> str:
    """The decoded body of a single-part message."""
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes), f"not a single-part message: {mail}"
    return payload.decode()
