"""The services an adapter (API, web UI, scheduler) may call, built by `runyard.app`."""

from __future__ import annotations

from dataclasses import dataclass

from runyard.services.audit import AuditLog
from runyard.services.cells import CellService
from runyard.services.collections import CollectionService
from runyard.services.connections import ConnectionService
from runyard.services.embedding import EmbeddingService
from runyard.services.groups import GroupService
from runyard.services.identity import IdentityService
from runyard.services.project_sharing import ProjectSharingService
from runyard.services.projects import ProjectService
from runyard.services.queried_tables import QueriedTableService
from runyard.services.runs import RunService
from runyard.services.schedules import ScheduleService
from runyard.services.tokens import TokenService
from runyard.services.users import UserService
from runyard.services.views import ViewService


@dataclass(frozen=True)
class Services:
    identity: IdentityService
    projects: ProjectService
    runs: RunService
    schedules: ScheduleService
    views: ViewService
    cells: CellService
    queried_tables: QueriedTableService
    embedding: EmbeddingService
    users: UserService
    tokens: TokenService
    groups: GroupService
    collections: CollectionService
    project_sharing: ProjectSharingService
    connections: ConnectionService
    audit: AuditLog
    public_url: str
    # Keys the web UI's session cookies and CSRF tokens (the same key that keys token hashes).
    secret_key: bytes
