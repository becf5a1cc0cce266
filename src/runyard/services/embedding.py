"""Embedding (Hex's createPresignedUrl): short-lived signed URLs that open a project's
published app, read-only, for anyone holding one until it expires.

The URL carries its own grant: the project, the input values and display options asked for,
who asked (their token), `testMode`, and the expiry, signed with an HMAC keyed from the
server's secret key. Nothing is stored, so a grant cannot be revoked early; it is short (at
most five minutes, as Hex's). A URL whose grant was altered, or whose expiry has passed, is
refused.

Opened with inputs whose values differ from the published run's, the page shows the app
run with them: a run of the published version on behalf of the URL's creator, shared by
every open with the same inputs (RunService.embedded_run). Such a run may outlast the URL,
so the page follows it with a token of its own, for that run only (`run view`), which each
reload renews for `view_lifetime` more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from runyard.domain import parameters as params
from runyard.domain.permissions import Action, Actor
from runyard.domain.run_status import RunStatus
from runyard.errors import (
    ArtifactNotReady,
    Forbidden,
    InvalidInputParams,
    NoPublishedResults,
    NotFound,
    Unauthenticated,
    Unprocessable,
)
from runyard.services.identity import IdentityService
from runyard.services.projects import ProjectService
from runyard.services.runs import RunService
from runyard.store import projects as project_store
from runyard.store.db import Database
from runyard.store.runs import RunRow
from runyard.tracing import current_trace_id

DEFAULT_EXPIRES_IN_MS = 15_000
MAX_EXPIRES_IN_MS = 300_000
# An opened page follows its run for at least this long, however short the results' lifetime.
MIN_VIEW_LIFETIME = timedelta(minutes=1)


class EmbedLinkRefused(Forbidden):
    """A presigned URL that is not (or no longer) valid."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"This embedded app link cannot be opened: {reason}")
        self.reason = reason


class EmbedInputsRejected(Unprocessable):
    """A presigned URL whose inputs no longer fit the published version (republished with
    other parameters since the URL was made)."""

    def __init__(self, error: InvalidInputParams) -> None:
        super().__init__(
            "This embedded app link cannot be opened: its inputs do not fit the published "
            f"app any more ({'; '.join(error.issues)}). Ask for a new link.",
            issues=error.issues,
        )


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
    # The token of whoever made the URL (None in URLs made before embedded apps ran).
    creator_token_id: str | None = None
    test_mode: bool = False


@dataclass(frozen=True)
class EmbeddedApp:
    """What an embedded page shows.

    `run` is the published run (`published`; None while there are no published results) or
    the run of the URL's inputs. `view` is the signed token of that run's own pages, with
    which the page refreshes and frames it after the URL itself expired. `failure` says, in
    words for the app's viewers, why that run did not complete.
    """

    title: str
    run: RunRow | None
    display_options: dict[str, Any]
    inputs_asked: dict[str, Any]
    published: bool = True
    test_mode: bool = False
    view: str | None = None

    @property
    def active(self) -> bool:
        return self.run is not None and not RunStatus(self.run.status).is_terminal

    @property
    def failure(self) -> str | None:
        if self.run is None or self.run.status in ("COMPLETED", "PENDING", "RUNNING"):
            return None
        return viewer_failure(self.run)


class EmbeddingService:
    def __init__(
        self,
        db: Database,
        projects: ProjectService,
        runs: RunService,
        identity: IdentityService,
        secret_key: bytes,
        clock: Callable[[], datetime],
        public_url: str,
        results_lifetime: timedelta,
    ) -> None:
        """`results_lifetime`: how long a run of a URL's inputs answers for every later open
        with the same inputs (RunService.embedded_run)."""
        self._db = db
        self._projects = projects
        self._runs = runs
        self._identity = identity
        # Keys of their own, so a signature here is never valid anywhere else, and a run
        # view's never valid as a URL's grant (nor the other way round).
        self._key = hmac.new(secret_key, b"runyard embedding v1", hashlib.sha256).digest()
        self._view_key = hmac.new(
            secret_key, b"runyard embedding run view v1", hashlib.sha256
        ).digest()
        self._clock = clock
        self._public_url = public_url
        self._results_lifetime = results_lifetime
        self._view_lifetime = max(results_lifetime, MIN_VIEW_LIFETIME)

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
            "k": actor.token_id,
            "m": request.test_mode,
        }
        token = _signed(grant, self._key)
        return f"{self._public_url}/embed/{project_id}?token={token}"

    def grant(self, project_id: str, token: str) -> EmbedGrant:
        """The grant a URL carries; EmbedLinkRefused if it was altered, is for another
        project, or has expired."""
        data = self._verified(project_id, token, self._key)
        return EmbedGrant(
            project_id,
            dict(data["i"]),
            _expiry(data),
            dict(data["d"]),
            creator_token_id=data.get("k"),
            test_mode=bool(data.get("m", False)),
        )

    def app(self, project_id: str, token: str) -> EmbeddedApp:
        """What the URL opens.

        1. Without inputs, in test mode (Hex's `testMode` never runs the app), or with
           inputs that bind the same values as the published run's (of the version now
           published): the published results, as for every viewer of the app.
        2. Otherwise the app run with the URL's inputs: they must fit the published version
           (EmbedInputsRejected), and the URL's creator must still be allowed to run the
           project (EmbedLinkRefused); the run is shared with every other open of the same
           inputs (RunService.embedded_run), and never updates the published results.
        """
        grant = self.grant(project_id, token)
        title = self._title(project_id)
        try:
            published: RunRow | None = self._runs.published_app_unchecked(project_id)[0]
        except NoPublishedResults:
            published = None
        shown = EmbeddedApp(
            title=title,
            run=published,
            display_options=grant.display_options,
            inputs_asked=grant.inputs,
            test_mode=grant.test_mode,
        )
        if not grant.inputs or grant.test_mode:
            return shown
        version = self._projects.published_version(project_id)
        specs = [params.ParameterSpec.from_dict(d) for d in version.parameters]
        try:
            inputs = params.validate_inputs(specs, grant.inputs)
        except InvalidInputParams as error:
            raise EmbedInputsRejected(error) from None
        wanted = params.values_key(params.bound_values(specs, inputs))
        if (
            published is not None
            and published.project_version == version.version
            and params.values_key(params.bound_values(specs, published.input_params)) == wanted
        ):
            return shown
        creator = self._creator(grant)
        triggered = self._runs.embedded_run(
            creator,
            version,
            inputs,
            reuse_for=self._results_lifetime,
            trace_id=current_trace_id(),
        )
        return replace(
            shown,
            run=triggered.run,
            published=False,
            view=self._run_view(project_id, triggered.run.id, grant.display_options),
        )

    def app_html(self, project_id: str, token: str) -> bytes:
        """The published run's outputs-only page, for the embedded page's frame."""
        self.grant(project_id, token)
        return self._runs.published_app_unchecked(project_id)[1]

    def run_app(self, project_id: str, run_id: str, view: str) -> EmbeddedApp:
        """The page of a run an embedded URL's inputs started, opened with its `view` token
        (while it runs, the page reloads itself with a renewed one)."""
        data = self._verified_view(project_id, run_id, view)
        run, _ = self._runs.app_page_unchecked(project_id, run_id)
        display = dict(data["d"])
        return EmbeddedApp(
            title=self._title(project_id),
            run=run,
            display_options=display,
            inputs_asked=dict(run.input_params),
            published=False,
            view=self._run_view(project_id, run_id, display),
        )

    def run_app_html(self, project_id: str, run_id: str, view: str) -> bytes:
        """That run's outputs-only page, for the embedded page's frame."""
        self._verified_view(project_id, run_id, view)
        _, page = self._runs.app_page_unchecked(project_id, run_id)
        if page is None:
            raise ArtifactNotReady(run_id, "app")
        return page

    def _title(self, project_id: str) -> str:
        with self._db.read() as session:
            project = project_store.get_project(session, project_id)
            if project is None:
                raise EmbedLinkRefused("the project no longer exists")
            return project.title

    def _creator(self, grant: EmbedGrant) -> Actor:
        """Whoever made the URL, as they are now: the app runs on their behalf, so it runs
        only while their token is valid and they may still run the project."""
        if grant.creator_token_id is None:
            raise EmbedLinkRefused("it was made before embedded apps ran; ask for a new one")
        try:
            creator = self._identity.actor_of_token(grant.creator_token_id)
            self._projects.check(creator, grant.project_id, Action.RUN_PROJECTS)
        except (Unauthenticated, Forbidden, NotFound):
            raise EmbedLinkRefused(
                "whoever made it may no longer run this app; ask for a new one"
            ) from None
        return creator

    def _run_view(self, project_id: str, run_id: str, display: dict[str, Any]) -> str:
        expires = self._clock() + self._view_lifetime
        view = {"p": project_id, "r": run_id, "e": int(expires.timestamp() * 1000), "d": display}
        return _signed(view, self._view_key)

    def _verified_view(self, project_id: str, run_id: str, view: str) -> dict[str, Any]:
        data = self._verified(project_id, view, self._view_key)
        if data.get("r") != run_id:
            raise EmbedLinkRefused("it is for another run")
        return data

    def _verified(self, project_id: str, token: str, key: bytes) -> dict[str, Any]:
        """The payload of a token signed with `key`, for this project and not expired;
        EmbedLinkRefused otherwise."""
        payload, _, signature = token.partition(".")
        try:
            given = _unb64(signature)
            data = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            raise EmbedLinkRefused("it is not a link this server made") from None
        if not hmac.compare_digest(given, _sign(payload, key)):
            raise EmbedLinkRefused("it was altered or not made by this server")
        if not isinstance(data, dict) or data.get("p") != project_id:
            raise EmbedLinkRefused("it is for another project")
        if self._clock() >= _expiry(data):
            raise EmbedLinkRefused("it has expired; ask for a new one")
        return data


def viewer_failure(run: RunRow) -> str:
    """Why a run did not complete, in words an app's viewer may read: the run's reason
    ("Cell 2 raised ValueError: unknown region"), never the traceback, which quotes the
    notebook's source."""
    error = run.error or {}
    message = str(error.get("message") or "").strip()
    if message and message not in (run.status, "ERRORED"):
        return message
    if error.get("ename"):
        return f"{error['ename']}: {error.get('evalue') or ''}".strip().rstrip(":")
    return {
        "KILLED": "The run was cancelled.",
        "UNABLE_TO_ALLOCATE_KERNEL": "No kernel was free to run the app in time.",
    }.get(run.status, "The app stopped with an error.")


def _expiry(data: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(data["e"]) / 1000, tz=UTC)


def _signed(data: dict[str, Any], key: bytes) -> str:
    payload = _b64(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_sign(payload, key))}"


def _sign(payload: str, key: bytes) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text:
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
