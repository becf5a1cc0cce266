"""Hex's collection endpoints (contract §10), and the project's sharing with collections
(`/projects/{projectId}/sharing/collections`)."""

from __future__ import annotations

import uuid

from pydantic import Field

from runyard.api.project_wire import Project
from runyard.api.wire import Pagination, StrictWire, Wire, WorkspaceSharingIn
from runyard.domain.access import AccessLevel


class SharingEntryIn(StrictWire):
    id: uuid.UUID
    access: AccessLevel


class CollectionSharingIn(StrictWire):
    users: list[SharingEntryIn] = Field(default_factory=list, max_length=100)
    groups: list[SharingEntryIn] = Field(default_factory=list, max_length=100)
    workspace: WorkspaceSharingIn | None = None


class CollectionSharingUpsertIn(StrictWire):
    upsert: CollectionSharingIn


class CreateCollectionBody(StrictWire):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    sharing: CollectionSharingIn | None = None


class EditCollectionBody(StrictWire):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    sharing: CollectionSharingUpsertIn | None = None


class SharingEntry(Wire):
    id: str
    access: str


class WorkspaceSharing(Wire):
    members: str


class CollectionSharing(Wire):
    users: list[SharingEntry]
    groups: list[SharingEntry]
    workspace: WorkspaceSharing


class Creator(Wire):
    email: str
    id: str


def _absent(value: object) -> bool:
    return value is None


class Collection(Wire):
    id: str
    name: str
    # Left out rather than null when there is none: Hex types these as optional, not
    # nullable, and its Collection forbids unlisted properties, so a strict client could
    # reject a null.
    description: str | None = Field(default=None, exclude_if=_absent)
    creator: Creator | None = Field(default=None, exclude_if=_absent)
    sharing: CollectionSharing


class CollectionList(Wire):
    values: list[Collection]
    pagination: Pagination


class CollectionRef(StrictWire):
    id: uuid.UUID


class ProjectCollectionEntry(StrictWire):
    collection: CollectionRef
    access: AccessLevel


class ProjectCollectionsUpsert(StrictWire):
    collections: list[ProjectCollectionEntry] = Field(max_length=25)


class ProjectCollectionsSharing(StrictWire):
    upsert: ProjectCollectionsUpsert


class EditProjectCollectionsBody(StrictWire):
    sharing: ProjectCollectionsSharing


class CollectionSharingError(Wire):
    collectionIds: list[str]
    reason: str


class ProjectCollectionsResult(Wire):
    project: Project
    # Optional in Hex's answer: left out when every collection was found.
    errors: list[CollectionSharingError] | None = Field(default=None, exclude_if=_absent)
