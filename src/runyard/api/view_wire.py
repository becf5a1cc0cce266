"""Runyard's saved views (an extension): named sets of a project's input parameters."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from runyard.api.wire import StrictWire, Wire, not_blank

ViewName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(not_blank)]


class CreateViewBody(StrictWire):
    name: ViewName
    inputParams: dict[str, Any] = Field(default_factory=dict)


class RenameViewBody(StrictWire):
    name: ViewName


class SavedView(Wire):
    id: str
    projectId: str
    name: str
    inputParams: dict[str, Any]
    createdAt: str
    updatedAt: str


class SavedViewList(Wire):
    values: list[SavedView]
