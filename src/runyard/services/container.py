"""The services an adapter (API, web UI, scheduler) may call, built by `runyard.app`."""

from __future__ import annotations

from dataclasses import dataclass

from runyard.services.identity import IdentityService
from runyard.services.projects import ProjectService
from runyard.services.runs import RunService


@dataclass(frozen=True)
class Services:
    identity: IdentityService
    projects: ProjectService
    runs: RunService
    public_url: str
