"""Embedding (Hex's createPresignedUrl): short-lived signed URLs that open a project's
published app, read-only, for anyone holding one until it expires.

The URL carries its own grant: the project, the input values and display options asked for,
and the expiry, signed with an HMAC keyed from the server's secret key. Nothing is stored, so
a grant cannot be revoked early; it is short (at most five minutes, as Hex's). A URL whose
grant was altered, or whose expiry has passed, is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from runyard.domain import parameters as params
from runyard.domain.permissions import Action, Actor
from runyard.errors import Forbidden, NoPublishedResults
from runyard.services.projects import ProjectService
from runyard.services.runs import RunService
from runyard.store import projects as project_store
from runyard.store.db import Database
from runyard.store.runs import RunRow

DEFAULT_EXPIRES_IN_MS = 15_000
MAX_EXPIRES_IN_MS = 300_000


class EmbedLinkRefused(Forbidden):
    """A presigned URL that is not (or no longer) valid."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"This embedded app link cannot be opened: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class EmbedRequest:
    input_parameters: Mapping[str, Any] = field(default_factory=dict)
    expires_in_ms: int = DEFAULT_EXPIRES_IN_MS
    display_options: Mapping[str, Any] = field(default_factory=dict)
    scope: tuple[str, ...] = ()
    test_mode: bool = False


@dataclass(frozen=True)
class EmbedGrant:
    project_id: str
    inputs: dict[str, Any]
    expires_at: datetime
    display_options: dict[str, Any]


@dataclass(frozen=True)
class EmbeddedApp:
    """What an embedded page shows: the project's title and its published run (None while
    it has no published results)."""

    grant: EmbedGrant
    title: str
    run: RunRow | None


class EmbeddingService:
    def __init__(
        self,
        db: Database,
        projects: ProjectService,
        runs: RunService,
        secret_key: bytes,
        clock: Callable[[], datetime],
        public_url: str,
    ) -> None:
        self._db = db
        self._projects = projects
        self._runs = runs
        # A key of its own, so a signature here is never valid anywhere else.
        self._key = hmac.new(secret_key, b"runyard embedding v1", hashlib.sha256).digest()
        self._clock = clock
        self._public_url = public_url

    def presigned_url(self, actor: Actor, project_id: str, request: EmbedRequest) -> str:
        """A URL that opens the published app until `expires_in_ms` from now. Embedding
        shows the app to anyone holding the URL, so it takes what sharing takes (full
        access). The inputs are checked against the published version (422)."""
        self._projects.check(actor, project_id, Action.SHARE_PROJECTS)
        version = self._projects.published_version(project_id)
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        inputs = params.validate_inputs(specs, request.input_parameters)
        expires = self._clock() + timedelta(milliseconds=request.expires_in_ms)
        grant = {
            "p": project_id,
            "i": dict(inputs),
            "e": int(expires.timestamp() * 1000),
            "d": dict(request.display_options),
        }
        payload = _b64(json.dumps(grant, sort_keys=True, separators=(",", ":")).encode())
        token = f"{payload}.{_b64(self._sign(payload))}"
        return f"{self._public_url}/embed/{project_id}?token={token}"

    def grant(self, project_id: str, token: str) -> EmbedGrant:
        """The grant a URL carries; EmbedLinkRefused if it was altered, is for another
        project, or has expired."""
        payload, _, signature = token.partition(".")
        try:
            given = _unb64(signature)
            data = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            raise EmbedLinkRefused("it is not a link this server made") from None
        if not hmac.compare_digest(given, self._sign(payload)):
            raise EmbedLinkRefused("it was altered or not made by this server")
        if not isinstance(data, dict) or data.get("p") != project_id:
            raise EmbedLinkRefused("it is for another project")
        expires_at = datetime.fromtimestamp(int(data["e"]) / 1000, tz=UTC)
        if self._clock() >= expires_at:
            raise EmbedLinkRefused("it has expired; ask for a new one")
        return EmbedGrant(project_id, dict(data["i"]), expires_at, dict(data["d"]))

    def app(self, project_id: str, token: str) -> EmbeddedApp:
        grant = self.grant(project_id, token)
        with self._db.read() as session:
            project = project_store.get_project(session, project_id)
            if project is None:
                raise EmbedLinkRefused("the project no longer exists")
            title = project.title
        try:
            run, _ = self._runs.published_app_unchecked(project_id)
        except NoPublishedResults:
            run = None
        return EmbeddedApp(grant, title, run)

    def app_html(self, project_id: str, token: str) -> bytes:
        """The published run's outputs-only page, for the embedded page's frame."""
        self.grant(project_id, token)
        return self._runs.published_app_unchecked(project_id)[1]

    def _sign(self, payload: str) -> bytes:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text:
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
