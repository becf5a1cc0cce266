"""Hex's embedding endpoint (contract §12): the presigned URL's body and answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from runyard.api.wire import RequestWire, Wire


class DisplayOptions(RequestWire):
    model_config = ConfigDict(extra="allow")

    theme: Literal["light", "dark"] | None = None
    showEmbeddedRunButton: bool | None = None
    noEmbedHeaderPadding: bool | None = None
    noEmbedBasePadding: bool | None = None
    noEmbedOutline: bool | None = None
    noEmbedFooter: bool | None = None


class CreatePresignedUrlBody(RequestWire):
    """Hex's body: extra properties are allowed (and ignored)."""

    model_config = ConfigDict(extra="allow")

    hexUserAttributes: dict[str, str] | None = None
    scope: list[Literal["EXPORT_PDF", "EXPORT_CSV"]] | None = None
    inputParameters: dict[str, Any] | None = None
    # A number of milliseconds (hex-toolkit sends a float such as 15000.0).
    expiresIn: float = Field(default=15_000, gt=0, le=300_000, allow_inf_nan=False)
    displayOptions: DisplayOptions | None = None
    testMode: bool = False


class PresignedUrl(Wire):
    model_config = ConfigDict(extra="forbid")

    url: str
