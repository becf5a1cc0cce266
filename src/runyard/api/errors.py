"""The one place that turns errors into HTTP answers: Hex's superset error body, always JSON.

Each domain error class maps to one status. Request validation failures are 400 with one
issue per bad field, named by its path (`inputParams.limit: …`). Unexpected exceptions are
500s that log the trace id and reveal nothing else.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from runyard.api.error_wire import InvalidParamBody
from runyard.api.tracing import current_trace_id
from runyard.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidField,
    InvalidInputParams,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RunyardError,
    ServiceUnavailable,
    Unauthenticated,
    Unprocessable,
)

log = logging.getLogger(__name__)

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_CONTENT",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

_STATUS_OF: list[tuple[type[RunyardError], int]] = [
    (InvalidInputParams, 422),
    (InvalidField, 422),
    (BadRequest, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (Unprocessable, 422),
    (RateLimited, 429),
    (ServiceUnavailable, 503),
]


def error_body(
    status: int, message: str, issues: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    issue_list = issues or []
    return {
        "code": _CODES.get(status, "ERROR"),
        "message": message,
        "issues": [{"message": text} for text in issue_list],
        "reason": message,
        "details": "; ".join(issue_list) or None,
        "traceId": current_trace_id(),
        **extra,
    }


def error_response(
    status: int,
    message: str,
    issues: list[str] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, issues, **extra), status_code=status, headers=headers
    )


def status_of(error: RunyardError) -> int:
    for cls, status in _STATUS_OF:
        if isinstance(error, cls):
            return status
    return 400


def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RunyardError)
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, RateLimited):
        headers = rate_limit_headers(error.amount, 0, error.reset_at)
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, InvalidInputParams):
        return error_response(
            status,
            error.message,
            error.issues,
            invalid=[
                {
                    "paramName": item.param_name,
                    "paramValue": _as_text(item.param_value),
                    "dataType": item.data_type,
                    "inputCellType": item.input_cell_type,
                }
                for item in error.invalid
            ],
            notFound=list(error.not_found),
        )
    if status == 422 and _declares_invalid_params(request):
        # The run trigger's 422 is Hex's InvalidParamPayload, whose `invalid` and `notFound`
        # clients read on every 422 (a project never published, say): present, if empty.
        return error_response(status, error.message, error.issues, invalid=[], notFound=[])
    return error_response(status, error.message, error.issues, headers=headers)


def _declares_invalid_params(request: Request) -> bool:
    route = request.scope.get("route")
    declared = (getattr(route, "responses", None) or {}).get(422, {})
    return declared.get("model") is InvalidParamBody


def rate_limit_headers(limit: int, remaining: int, reset_at: float) -> dict[str, str]:
    """GitHub's and slowapi's `X-RateLimit-*` headers: the tightest limit of the request's
    group, what is left of it, and when (Unix seconds) a request is counted off again."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(math.ceil(reset_at)),
    }


def _as_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, default=str)


# Hex answers malformed input with 400; Runyard's own schedule endpoints answer 422 for any
# input they cannot accept, shape or meaning alike, so a client sees one status for "bad
# schedule" whether pydantic or the cadence rules caught it.
_UNPROCESSABLE_TAGS = frozenset({"schedules"})


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    route = request.scope.get("route")
    status = 422 if _UNPROCESSABLE_TAGS & set(getattr(route, "tags", None) or ()) else 400
    issues = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            # FastAPI puts the character offset where a field name would be ("10: JSON
            # decode error"); say what it is. The text around it is not echoed: bodies
            # carry secrets.
            reason = (item.get("ctx") or {}).get("error", "JSON decode error")
            position = item.get("loc", ("body", "?"))[-1]
            issues.append(f"body: not valid JSON ({reason} at character {position})")
            continue
        location = [
            str(part)
            for part in item.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        where = ".".join(location) or "body"
        issues.append(f"{where}: {item.get('msg', 'invalid')}")
    return error_response(status, "Invalid input data", issues)


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    message = {404: "Not found", 405: "Method not allowed"}.get(
        error.status_code, str(error.detail)
    )
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return error_response(error.status_code, message, headers=headers)


def allowed_methods(request: Request) -> str:
    """The `Allow` header of a 405: every method some route serves at the request's path.

    Starlette's 405 names the methods of the first route whose path matched, and a path
    is often served by several routes (GET and PATCH of `/collections/{id}`). FastAPI keeps
    each included router as one entry of the app's routes: `iter_route_contexts` yields
    their routes with the prefixes they were included under.
    """
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error (trace %s)", current_trace_id(), exc_info=error)
    return error_response(500, "Internal server error")


def response_for(request: Request, error: Exception) -> JSONResponse:
    """The JSON answer to any error raised while serving the API.

    `app.py` installs one dispatcher for the whole app (FastAPI has one handler table per
    app) that sends API paths here and the web UI's paths to `web/errors.py`.
    """
    if isinstance(error, RunyardError):
        return _domain_error(request, error)
    if isinstance(error, RequestValidationError):
        return _validation_error(request, error)
    if isinstance(error, StarletteHTTPException):
        return _http_error(request, error)
    return _unexpected(request, error)
