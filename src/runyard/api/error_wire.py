"""Hex's superset error body (contract §2), and the one RunProject answers when input
parameters are refused. Only `api/errors.py` chooses when to send them."""

from __future__ import annotations

from pydantic import Field

from runyard.api.wire import Wire


class ErrorIssue(Wire):
    message: str


class ErrorBody(Wire):
    """One superset body for every error, so each client finds the keys it reads."""

    code: str
    message: str
    issues: list[ErrorIssue] = Field(default_factory=list)
    reason: str
    details: str | None = None
    traceId: str


class InvalidParamItem(Wire):
    paramName: str
    paramValue: str
    dataType: str
    inputCellType: str


class InvalidParamBody(ErrorBody):
    invalid: list[InvalidParamItem]
    notFound: list[str]
