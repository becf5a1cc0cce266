"""What `/openapi.json` says of each operation's error answers: the codes it really answers
and the body it sends with them (Hex's superset error body, `error_wire.ErrorBody`).

Each error status is described once, in `_ERRORS`. Two ways apply it:

- `complete` gives every API operation the errors any of them can answer, by kind: 400
  (input fails validation: a NUL in any query or header is one), 401 (token) and 429 (rate
  limits) always; 403 (the token's role or the user's access) unless the route says any
  valid token may call it (`ANY_TOKEN`); 404 when the path names something; 413 when the
  operation takes a body. It also removes FastAPI's 422 `HTTPValidationError`, which this
  server never sends: validation failures are 400 (422 on the schedule endpoints, which
  declare it) in the superset body.
- Every API operation also declares the bearer token it needs (`security`, with the
  `bearerAuth` scheme), so a generated client knows to send one.
- A route declares the errors particular to it with `responses=errors(409)` (a duplicate
  name), `errors(422)` (well formed but refused), `errors(404)` (a query or body field that
  names something), from the same table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from runyard.api import error_wire

API_PREFIX = "/api/v1/"

BEARER_SCHEME = "bearerAuth"
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A personal or workspace API token: `Authorization: Bearer <token>`",
}

# Status -> (description, headers the answer carries).
_ERRORS: dict[int, tuple[str, dict[str, str]]] = {
    400: (
        "Invalid input: a parameter or body field fails validation, or fields contradict "
        "each other; `issues` names each field and what is wrong with it",
        {},
    ),
    401: (
        "No API token, or one that is unknown, revoked or expired, or whose user is deactivated",
        {"WWW-Authenticate": "`Bearer`"},
    ),
    403: ("The token, its user's role or their access to the project does not allow this", {}),
    404: ("What the request names does not exist, or is hidden from this token", {}),
    409: ("Conflicts with what exists: a name or email already in use", {}),
    413: ("The request body is larger than the server accepts (RUNYARD_MAX_NOTEBOOK_BYTES)", {}),
    422: ("Well formed, but it cannot be done as asked; `message` says why", {}),
    429: (
        "A rate limit of this token is used up",
        {
            "Retry-After": "Seconds to wait before trying again",
            "X-RateLimit-Limit": "The limit that was reached",
            "X-RateLimit-Remaining": "What is left of it (0)",
            "X-RateLimit-Reset": "When (Unix seconds) a request is counted off again",
        },
    ),
}

# Marks a route that any valid token may call (it acts on the caller alone): no 403.
ANY_TOKEN: dict[str, Any] = {"x-runyard-any-token": True}


def errors(*statuses: int, model: type[BaseModel] = error_wire.ErrorBody) -> dict[int | str, Any]:
    """A route's `responses=` for these error statuses, with the body each is sent with."""
    return {status: {"model": model, **_described(status)} for status in statuses}


def _described(status: int) -> dict[str, Any]:
    description, headers = _ERRORS[status]
    declared: dict[str, Any] = {"description": description}
    if headers:
        declared["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return declared


def _kinds(operation: dict[str, Any]) -> list[int]:
    statuses = [400, 401]
    if not operation.pop(next(iter(ANY_TOKEN)), False):
        statuses.append(403)
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        statuses.append(404)
    if "requestBody" in operation:
        statuses.append(413)
    statuses.append(429)
    return statuses


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (FastAPI's OpenAPI output) with the error answers of every API operation
    declared, and FastAPI's undelivered 422 removed; changed in place and returned."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = _BEARER
    body = _component(schemas, error_wire.ErrorBody)
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
            if not path.startswith(API_PREFIX):
                continue
            operation["security"] = [{BEARER_SCHEME: []}]
            for status in _kinds(operation):
                responses.setdefault(
                    str(status),
                    {
                        **_described(status),
                        "content": {"application/json": {"schema": {"$ref": body}}},
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def _component(schemas: dict[str, Any], model: type[BaseModel]) -> str:
    """The reference to `model`'s schema, added to `schemas` (with the models it uses) if
    FastAPI did not put it there already."""
    name = model.__name__
    if name not in schemas:
        found = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        for nested, schema in found.pop("$defs", {}).items():
            schemas.setdefault(nested, schema)
        schemas[name] = found
    return f"#/components/schemas/{name}"


def install(app: FastAPI) -> None:
    """Make `app` serve the completed document at its `openapi_url` (built once, on the
    first request, as FastAPI does)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            # FastAPI's own method keeps what it generated in `openapi_schema`: complete that.
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
