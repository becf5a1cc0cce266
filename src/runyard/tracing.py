"""The trace id of the request being served, readable from any layer.

The API's middleware sets it (and answers it in `x-trace-id`); services read it to stamp the
audit log with it. It lives in this leaf module, beside config and errors, because services
may not import the API layer and the domain layer stays free of ambient state.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token

_trace_id: ContextVar[str] = ContextVar("runyard_trace_id", default="")


def current_trace_id() -> str:
    """The request's trace id; outside a request (CLI, scheduler), a fresh one."""
    return _trace_id.get() or uuid.uuid4().hex


def request_trace_id() -> str | None:
    """The request's trace id, or None outside a request."""
    return _trace_id.get() or None


def set_trace_id(trace_id: str) -> Token[str]:
    return _trace_id.set(trace_id)


def reset_trace_id(token: Token[str]) -> None:
    _trace_id.reset(token)
