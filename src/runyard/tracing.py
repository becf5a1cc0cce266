"""The trace id of the request being served, readable from any layer.

The API's middleware sets it (and answers it in `x-trace-id`); services read it to stamp the
audit log with it. It lives in this leaf module, beside config and errors, because services
may not import the API layer and the domain layer stays free of ambient state.
"""

from __future__ import annotations

import random
from contextvars import ContextVar, Token

_trace_id: ContextVar[str] = ContextVar("runyard_trace_id", default="")


def new_trace_id() -> str:
    """A fresh trace id: 128 random bits as 32 hex digits, like a uuid4's hex.

    A trace id must be unique, not secret, so it comes from `random` (reseeded from the OS
    in every forked child) rather than from `os.urandom`: the system call releases the GIL,
    and on a busy server the event loop then waits for a worker thread's switch interval
    to get it back, about as long as the rest of a status poll.
    """
    return f"{random.getrandbits(128):032x}"


def current_trace_id() -> str:
    """The request's trace id; outside a request (CLI, scheduler), a fresh one."""
    return _trace_id.get() or new_trace_id()


def request_trace_id() -> str | None:
    """The request's trace id, or None outside a request."""
    return _trace_id.get() or None


def set_trace_id(trace_id: str) -> Token[str]:
    return _trace_id.set(trace_id)


def reset_trace_id(token: Token[str]) -> None:
    _trace_id.reset(token)
