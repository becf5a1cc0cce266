"""A trace id per request: in the `x-trace-id` header, in every body, and in the logs."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The contextvar itself lives in the leaf module `runyard.tracing`, so that services (which may
# not import the API) can stamp the audit log with the same id; re-exported here for the API.
from runyard.tracing import current_trace_id, new_trace_id, reset_trace_id, set_trace_id

__all__ = ["TraceIdMiddleware", "current_trace_id"]


class TraceIdMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it buffers and breaks contextvars)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        trace_id = new_trace_id()
        token = set_trace_id(trace_id)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-trace-id", trace_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            reset_trace_id(token)
