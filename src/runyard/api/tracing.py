"""A trace id per request: in the `x-trace-id` header, in every body, and in the logs."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_trace_id: ContextVar[str] = ContextVar("runyard_trace_id", default="")


def current_trace_id() -> str:
    return _trace_id.get() or uuid.uuid4().hex


class TraceIdMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it buffers and breaks contextvars)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = uuid.uuid4().hex
        token = _trace_id.set(trace_id)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-trace-id", trace_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            _trace_id.reset(token)
