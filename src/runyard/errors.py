"""Domain errors: they carry data, and one handler per medium turns them into a response.

Nothing here knows about HTTP. `api/errors.py` maps each class to a status code and Hex's
superset error body; the CLI prints them. Subclass the closest kind rather than inventing a
status in a service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class RunyardError(Exception):
    """Base of every error the services raise on purpose."""

    def __init__(self, message: str, *, issues: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.issues = list(issues)


class BadRequest(RunyardError):
    """The request is malformed or contradicts itself (Hex answers 400)."""


class Unprocessable(RunyardError):
    """The request is well formed but cannot be carried out as asked (Hex answers 422)."""


class NotFound(RunyardError):
    """The thing does not exist, or the actor may not know that it does."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class Conflict(RunyardError):
    """The request conflicts with the current state (a duplicate name, say)."""


class Unauthenticated(RunyardError):
    """No credentials, or credentials that are not (or no longer) valid."""


class Forbidden(RunyardError):
    """The actor is known but may not do this."""


class PayloadTooLarge(RunyardError):
    """The request body is larger than the configured limit."""


class ServiceUnavailable(RunyardError):
    """A dependency the request needs is not available right now."""


@dataclass(frozen=True)
class InvalidParam:
    """One input parameter whose value does not fit its declared type."""

    param_name: str
    param_value: Any
    data_type: str
    input_cell_type: str
    reason: str


@dataclass
class InvalidInputParams(RunyardError):
    """Run inputs that name unknown parameters or carry values of the wrong type."""

    invalid: list[InvalidParam] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = [f"inputParams.{p.param_name}: {p.reason}" for p in self.invalid]
        parts += [f"inputParams.{name}: no such input parameter" for name in self.not_found]
        RunyardError.__init__(self, "Invalid input parameters", issues=parts)


class InvalidNotebook(Unprocessable):
    """An uploaded notebook is not a valid Jupyter notebook, or its parameters cell is not
    plain literal assignments."""


class ProjectNotPublished(Unprocessable):
    def __init__(self, project_id: str) -> None:
        super().__init__("This project has not been published")
        self.project_id = project_id


class RunNotCancellable(Unprocessable):
    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"Run {run_id} is already {status} and cannot be cancelled")
        self.run_id = run_id
        self.status = status


class NoPublishedResults(NotFound):
    """No run has updated the project's published results yet."""

    def __init__(self, project_id: str) -> None:
        RunyardError.__init__(
            self,
            f"Project {project_id} has no published results yet: a completed run with "
            "updatePublishedResults (or a scheduled run) publishes its outputs",
        )
        self.kind = "published results"
        self.ident = project_id
        self.project_id = project_id


class ArtifactNotReady(NotFound):
    """A run has no such artifact: not yet, or, if it `ended` (with that status) before its
    output was saved (its server stopped, say), not at all. `reason` is the run's error
    message, which says why it ended."""

    def __init__(
        self, run_id: str, artifact: str, ended: str | None = None, reason: str | None = None
    ) -> None:
        if ended is None:
            message = f"Run {run_id} has no {artifact} yet"
        else:
            message = (
                f"Run {run_id} has no {artifact}: it ended {ended} before its output was saved"
            )
            if reason:
                message += f" ({reason.rstrip('.')})"
        RunyardError.__init__(self, message)
        self.kind = "artifact"
        self.ident = artifact
        self.ended = ended


@dataclass
class InvalidField(RunyardError):
    """A field of the request has a value the domain rejects (an unknown time zone, say)."""

    field_name: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        RunyardError.__init__(
            self, f"{self.field_name}: {self.reason}", issues=[f"{self.field_name}: {self.reason}"]
        )


class RateLimited(RunyardError):
    """The token has used up one of its group's limits; it may try again after a wait."""

    def __init__(
        self, group: str, limit: str, amount: int, retry_after_seconds: int, reset_at: float
    ) -> None:
        super().__init__(
            f"Too many requests: the {group} limit of {limit} for this token is used up; "
            f"retry after {retry_after_seconds} s"
        )
        self.group = group
        self.limit = limit
        self.amount = amount
        self.retry_after_seconds = retry_after_seconds
        self.reset_at = reset_at
